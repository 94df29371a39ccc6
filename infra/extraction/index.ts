export * from './extraction-flags';
export * from './shadow-store';
export * from './shadowing.transport';
export * from './retire-topology';
