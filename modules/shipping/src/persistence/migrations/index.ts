export * from './1764000000500-create-shipments';
export * from './1764000000501-cancel-shipments-of-failed-orders';
export * from './1764000000520-remember-whose-shipment-it-is';
