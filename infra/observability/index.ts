export * from './logger-options';
