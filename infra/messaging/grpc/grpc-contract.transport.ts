import {
  Client,
  credentials as grpcCredentials,
  status as GrpcStatus,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import { ContractError, type CallContext, type Contract } from '@contracts/kernel';
import { callerStoppedWaiting, onCallerAbort } from '../caller-abort';
import type { ContractTransport } from '../contract-transport';
import { checkRequest } from '../request-check';
import { metadataOf } from './call-metadata';
import { grpcServiceOf } from './grpc-contract.server';
import { fromServiceError } from './grpc-status';

export interface GrpcClientOptions {
  /** host:port of the process that serves the contract. */
  readonly address: string;
  readonly credentials?: ChannelCredentials;
}

/**
 * Calls a contract served by another process over gRPC. The request is checked against the
 * contract before it leaves (a bad request fails here exactly as it would in-process), the
 * caller's deadline becomes the gRPC deadline, its abort signal cancels the call (the serving
 * side's handler sees its own signal abort), the rest of the call context rides in metadata, and
 * a failure comes back as the same typed error the serving side raised.
 */
export class GrpcContractTransport implements ContractTransport {
  readonly kind = 'grpc';
  private readonly client: Client;

  constructor(options: GrpcClientOptions) {
    this.client = new Client(options.address, options.credentials ?? grpcCredentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30_000,
    });
  }

  close(): void {
    this.client.close();
  }

  unary(contract: Contract, method: string, ctx: CallContext, request: unknown): Promise<unknown> {
    let out: ReturnType<typeof outgoing>;
    try {
      out = outgoing(contract, method, ctx, request);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const { definition, what, sent } = out;
    const { signal } = ctx;
    if (signal?.aborted) return Promise.reject(callerStoppedWaiting(what)); // nothing is sent
    return new Promise((resolve, reject) => {
      let stopWatching: (() => void) | undefined;
      const call = this.client.makeUnaryRequest(...sent, (error: ServiceError | null, answer?: unknown) => {
        stopWatching?.();
        if (error) return reject(fromServiceError(error, what));
        const checked = definition.response.safeParse(answer);
        if (!checked.success) {
          return reject(new ContractError('internal', 'invalid-response', `${what} answered outside its contract`));
        }
        resolve(checked.data);
      });
      if (signal) {
        // The caller is told at once, without waiting for the CANCELLED status (which a server
        // may also send for reasons of its own).
        stopWatching = onCallerAbort(signal, () => {
          call.cancel();
          reject(callerStoppedWaiting(what));
        });
      }
    });
  }

  async *serverStream(contract: Contract, method: string, ctx: CallContext, request: unknown): AsyncIterable<unknown> {
    const { definition, what, sent } = outgoing(contract, method, ctx, request);
    const { signal } = ctx;
    if (signal?.aborted) throw callerStoppedWaiting(what); // nothing is sent
    const stream = this.client.makeServerStreamRequest(...sent);
    const stopWatching = signal ? onCallerAbort(signal, () => stream.cancel()) : undefined;
    try {
      for await (const item of stream as AsyncIterable<unknown>) {
        yield definition.response.parse(item);
      }
    } catch (error) {
      if (signal?.aborted) throw callerStoppedWaiting(what);
      const serviceError = error as ServiceError;
      if (typeof serviceError.code === 'number' && serviceError.code !== GrpcStatus.OK) {
        throw fromServiceError(serviceError, what);
      }
      throw error;
    } finally {
      stopWatching?.();
      stream.cancel();
    }
  }
}

/**
 * What a call sends, the same for both kinds: the request checked against the contract (a bad one
 * fails here, before anything leaves), and grpc-js's arguments for it: the method's path and
 * codecs, the call context as metadata, the caller's deadline.
 */
function outgoing(contract: Contract, method: string, ctx: CallContext, request: unknown) {
  const definition = contract.methods[method];
  const service = grpcServiceOf(contract)[method];
  const what = `${contract.name}/${method}`;
  const checked = checkRequest(definition.request, request, what);
  const sent = [
    service.path,
    service.requestSerialize,
    service.responseDeserialize,
    checked,
    metadataOf(ctx),
    { deadline: ctx.deadline },
  ] as const;
  return { definition, what, sent };
}
