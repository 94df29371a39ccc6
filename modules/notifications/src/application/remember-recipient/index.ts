export * from './remember-recipient-on-customer-registered.handler';
