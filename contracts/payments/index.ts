export * from './payments.contract';
export * from './payments.events';
