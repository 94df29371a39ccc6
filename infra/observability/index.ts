export * from './logger-options';
export * from './process-metrics';
