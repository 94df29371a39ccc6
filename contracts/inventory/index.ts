export * from './inventory.contract';
export * from './inventory.events';
