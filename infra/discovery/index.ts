export * from './instance-registration';
export * from './instance-settings';
export * from './process-discovery';
export * from './registry-watcher';
export * from './service-registry';
