export * from './catalog.contract';
