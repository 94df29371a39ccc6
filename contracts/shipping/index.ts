export * from './shipping.contract';
export * from './shipping.events';
export * from './shipping.subgraph';
