export * from './logger-options';
export * from './process-metrics';
export * from './tracing';
export * from './tracing-setup';
export * from './red-metrics';
