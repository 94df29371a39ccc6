export * from './inventory.contract';
export * from './inventory.events';
export * from './inventory.subgraph';
