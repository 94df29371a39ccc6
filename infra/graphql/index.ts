export * from './subgraph';
export * from './supergraph';
export * from './subgraph-transport';
