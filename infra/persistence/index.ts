export * from './database-config';
export * from './database-provisioner';
export * from './embedded-database';
export * from './messaging-tables.migration';
export * from './module-data-source';
export * from './sql-session';
export * from './unit-of-work';
export * from './channel-listener';
