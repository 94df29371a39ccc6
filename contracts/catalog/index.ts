export * from './catalog.contract';
export * from './catalog.subgraph';
