export * from './circuit-breaker';
export * from './clock';
export * from './resilient.transport';
export * from './retry-budget';
