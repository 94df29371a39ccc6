export * from './ordering.contract';
export * from './ordering.events';
