export * from './identity.contract';
export * from './identity.events';
export * from './identity.subgraph';
