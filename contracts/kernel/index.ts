export * from './call-context';
export * from './contract';
export * from './envelope';
export * from './errors';
export * from './ids';
export * from './money';
export * from './bounded-contexts';
export * from './method-access';
