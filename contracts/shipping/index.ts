export * from './shipping.contract';
export * from './shipping.events';
