export * from './settings';
export * from './variables';
export * from './run-mode';
