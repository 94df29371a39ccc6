export * from './identity.contract';
export * from './identity.events';
