export * from './called-contracts';
export * from './context-registry';
export * from './context-runtime';
export * from './context-wiring';
export * from './ficus.module';
export * from './process-readiness';
export * from './periodic-sweep';
