export * from './create-shipment-on-payment-completed.handler';
export * from './create-shipment.command';
export * from './create-shipment.handler';
