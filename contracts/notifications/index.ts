export * from './notifications.contract';
export * from './notifications.subgraph';
