export * from './payments.contract';
export * from './payments.events';
export * from './payments.subgraph';
