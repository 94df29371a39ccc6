export * from './extraction-diversion';
export * from './grpc-peer.probe';
export * from './kafka-broker.probe';
export * from './process-config';
export * from './process-wiring';
export * from './remote-clients';
export * from './remote-routes';
export * from './transport-servers';
