export * from './call-metadata';
export * from './grpc-contract.server';
export * from './grpc-contract.transport';
export * from './grpc-status';
export * from './grpc-tls';
export * from './balanced-contract.transport';
