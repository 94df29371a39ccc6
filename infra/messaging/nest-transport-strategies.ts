import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { GrpcContractServer } from './grpc/grpc-contract.server';
import type { KafkaEventConsumer } from './kafka/kafka-event.consumer';

/**
 * ficus's transports as Nest custom transporters, so that Nest starts them with the app
 * (`app.connectMicroservice({ strategy })`, `startAllMicroservices()`) and closes them with it.
 * They carry no @MessagePattern handlers: what they serve is the contract bus and the inbox
 * consumers, which keep the deadlines, typed errors and commit-after-inbox that Nest's stock
 * gRPC and Kafka transports do not give (see docs/adr/0015).
 */
export class FicusGrpcStrategy extends Server implements CustomTransportStrategy {
  override readonly transportId = Symbol('ficus-grpc');

  constructor(private readonly server: GrpcContractServer) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    this.server.listen().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  close(): Promise<void> {
    return this.server.close();
  }

  on(): void {
    // the gRPC server reports nothing through Nest's event channel
  }

  unwrap<T>(): T {
    return this.server as T;
  }
}

export class FicusKafkaStrategy extends Server implements CustomTransportStrategy {
  override readonly transportId = Symbol('ficus-kafka');

  constructor(private readonly consumers: readonly KafkaEventConsumer[]) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    Promise.all(this.consumers.map((consumer) => consumer.start())).then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
  }

  on(): void {
    // consumers report through their own logs and dead letters
  }

  unwrap<T>(): T {
    return this.consumers as T;
  }
}
