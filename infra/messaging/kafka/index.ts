export * from './kafka-event.consumer';
export * from './kafka-event.publisher';
export * from './kafka-topics';
export * from './kafka-topology';
export * from './kafka-credentials';
export * from './kafka-socket';
