export * from './context-registry';
export * from './context-runtime';
export * from './ficus.module';
export * from './process-config';
export * from './process-wiring';
