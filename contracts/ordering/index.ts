export * from './ordering.contract';
export * from './ordering.events';
export * from './ordering.subgraph';
