export * from './subgraph';
export * from './supergraph';
