export * from './commit-reservation-on-order-confirmed.handler';
export * from './commit-reservation.command';
export * from './commit-reservation.handler';
