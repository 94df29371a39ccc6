export * from './1764000000400-create-payments';
export * from './1764000000401-learn-payment-facts-in-any-order';
export * from './1764000000402-refund-payments-of-failed-orders';
export * from './1764000000403-vault-payment-methods';
export * from './1764000000404-erase-plain-card-tokens';
export * from './1764000000420-remember-whose-payment-it-is';
export * from './1764000000421-retry-provider-calls';
