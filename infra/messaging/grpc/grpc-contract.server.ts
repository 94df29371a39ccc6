import type { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import {
  type Metadata,
  Server,
  ServerCredentials,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  ContractError,
  internalError,
  unauthenticated,
  type CallContext,
  type Caller,
  type CallingService,
  type Contract,
} from '@contracts/kernel';
import { contractCallsServed } from '@infra/observability';
import { CallerAbort } from '../caller-abort';
import { checkRequestText } from '../request-check';
import type { InProcessContractTransport } from '../in-process-contract.transport';
import { claimedServiceOf, contextOf } from './call-metadata';
import { toServiceError } from './grpc-status';
import { serverCredentialsOf, targetOfPeer, type GrpcTls } from './grpc-tls';

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  /** Mutual TLS: only peers with a certificate from this CA get through the handshake. */
  readonly tls?: GrpcTls;
  /**
   * With mutual TLS, whether the deploy target a caller's certificate names (undefined: none)
   * may call this contract; refused calls answer PERMISSION_DENIED.
   */
  readonly authorize?: (callerTarget: string | undefined, contract: Contract, method: string) => boolean;
  /**
   * With mutual TLS, whether the deploy target a caller's certificate names hosts the service it
   * claims to call as (x-ficus-service); a claim not vouched for is dropped, and the call is served
   * as no service. Without TLS (loopback only, insecure by name) the claim is taken as it comes.
   */
  readonly vouch?: (callerTarget: string | undefined, service: CallingService) => boolean;
  /**
   * Who the end user of a call is, from the access token relayed in its metadata (rejects when
   * the token is not valid). Unset: calls are served without an end user, whatever they carry.
   */
  readonly verifyCaller?: (credential: string) => Promise<Caller>;
}

const services = new WeakMap<Contract, ServiceDefinition>();

/** A grpc-js service definition built from a contract's generated wire definition (once per contract). */
export function grpcServiceOf(contract: Contract): ServiceDefinition {
  const known = services.get(contract);
  if (known) return known;
  if (!contract.wire) {
    throw new Error(`${contract.name} has no wire definition: generate it from its .proto (npm run proto:generate)`);
  }
  const service: Record<string, ServiceDefinition[string]> = {};
  for (const [method, wire] of Object.entries(contract.wire.methods)) {
    service[method] = {
      path: `/${contract.wire.fullName}/${wire.name}`,
      requestStream: false,
      responseStream: wire.responseStream,
      requestSerialize: (value: unknown) => Buffer.from(wire.requestType.encode(value as never).finish()),
      requestDeserialize: (bytes: Buffer) => wire.requestType.decode(bytes),
      responseSerialize: (value: unknown) => Buffer.from(wire.responseType.encode(value as never).finish()),
      responseDeserialize: (bytes: Buffer) => wire.responseType.decode(bytes),
    };
  }
  services.set(contract, service);
  return service;
}

/**
 * Serves contracts over gRPC: every call is handed to the in-process transport (the same schema
 * check, deadline and typed errors as a call inside the process), with the caller's deadline and
 * identity taken from the gRPC call, and a signal that aborts when the caller cancels it. Typed errors go back as a
 * status code plus a trailer that
 * the ficus client turns into the very same error.
 */
export class GrpcContractServer {
  private readonly logger = new Logger('GrpcContractServer');
  private readonly server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  private boundPort?: number;

  constructor(
    private readonly local: InProcessContractTransport,
    private readonly options: GrpcServerOptions,
  ) {}

  get port(): number | undefined {
    return this.boundPort;
  }

  expose(contract: Contract): void {
    const implementation: UntypedServiceImplementation = {};
    for (const [method, definition] of Object.entries(contract.methods)) {
      const what = `${contract.name}/${method}`;
      implementation[method] =
        definition.kind === 'unary'
          ? this.unaryHandler(contract, method, what)
          : this.streamHandler(contract, method, what);
    }
    this.server.addService(grpcServiceOf(contract), implementation);
  }

  async listen(): Promise<number> {
    const address = `${this.options.host}:${this.options.port}`;
    this.boundPort = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(
        address,
        this.options.tls ? serverCredentialsOf(this.options.tls) : ServerCredentials.createInsecure(),
        (error, port) => (error ? reject(error) : resolve(port)),
      ),
    );
    this.logger.log(`serving gRPC on ${this.options.host}:${this.boundPort}`);
    return this.boundPort;
  }

  /** Stops taking calls, lets running ones finish for a moment, then cuts the rest. */
  async close(graceMs = 5_000): Promise<void> {
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      force.unref();
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private unaryHandler(contract: Contract, method: string, what: string): handleUnaryCall<unknown, unknown> {
    const served = contractCallsServed.seriesBy({ contract: contract.name, method }, 'outcome');
    return (call, callback) => {
      const peer = this.peerOf(call);
      const refused = this.refusal(peer, contract, method);
      if (refused) return callback(toServiceError(refused));
      const cancellation = new CallerCancellation(call);
      // Synchronous unless there is a relayed token to verify: no promise hop on a call without one.
      const ctx = this.callContext(
        contextOf(call.metadata, call.getDeadline()),
        this.serviceOf(call.metadata, peer),
        cancellation.signal,
      );
      const answered =
        ctx instanceof Promise
          ? ctx.then((verified) => this.local.unaryFromAnotherProcess(contract, method, verified, call.request))
          : this.local.unaryFromAnotherProcess(contract, method, ctx, call.request);
      answered.then(
        (answer) => {
          served.of('ok').inc();
          cancellation.answering();
          callback(null, answer);
        },
        (error: unknown) => {
          const typed = this.typed(error, what);
          served.of(typed.kind).inc();
          cancellation.answering();
          callback(toServiceError(typed));
        },
      );
    };
  }

  private streamHandler(contract: Contract, method: string, what: string): handleServerStreamingCall<unknown, unknown> {
    const served = contractCallsServed.seriesBy({ contract: contract.name, method }, 'outcome');
    return (call) => {
      const peer = this.peerOf(call);
      const refused = this.refusal(peer, contract, method);
      if (refused) {
        // 'error' (not destroy) is how grpc-js ends a server stream with a status the caller sees.
        call.emit('error', Object.assign(new Error(what), toServiceError(refused)));
        return;
      }
      const cancellation = new CallerCancellation(call);
      const { signal } = cancellation;
      let iterator: AsyncIterator<unknown> | undefined;
      signal.addEventListener('abort', () => void iterator?.return?.(), { once: true });
      void (async () => {
        try {
          const ctx = await this.callContext(
            contextOf(call.metadata, call.getDeadline()),
            this.serviceOf(call.metadata, peer),
            signal,
          );
          checkRequestText(call.request, `${contract.name}/${method}`);
          iterator = this.local.serverStream(contract, method, ctx, call.request)[Symbol.asyncIterator]();
          for (let next = await iterator.next(); !next.done && !signal.aborted; next = await iterator.next()) {
            if (!call.write(next.value)) await drainedOrCancelled(call, signal);
          }
          cancellation.answering();
          if (!signal.aborted) call.end();
          served.of(signal.aborted ? 'cancelled' : 'ok').inc();
        } catch (error) {
          const typed = this.typed(error, what);
          served.of(typed.kind).inc();
          cancellation.answering();
          if (!signal.aborted) call.emit('error', Object.assign(new Error(what), toServiceError(typed)));
        }
      })();
    };
  }

  /**
   * The call's end user, verified from its relayed token; a token that does not verify fails the
   * call as unauthenticated rather than serving it as nobody's.
   */
  private callContext(
    context: CallContext,
    service: CallingService | undefined,
    signal: AbortSignal,
  ): CallContext | Promise<CallContext> {
    const received = service === undefined ? context : { ...context, service };
    const { credential } = received;
    const verify = this.options.verifyCaller;
    if (!credential || !verify) return { ...received, credential: undefined, signal };
    return this.verified(received, () => verify(credential), signal);
  }

  private async verified(
    received: CallContext,
    verify: () => Promise<Caller>,
    signal: AbortSignal,
  ): Promise<CallContext> {
    let caller: Caller;
    try {
      caller = await verify();
    } catch (error) {
      // The verifier's own answer when it has one: identity's keys out of reach is `unavailable`
      // (retry later), not a bad token that would sign the user out.
      if (error instanceof ContractError && error.kind !== 'unauthenticated') throw error;
      this.logger.warn(
        { reason: error instanceof Error ? error.message : String(error) },
        'gRPC call refused: the relayed access token is not valid',
      );
      throw unauthenticated('invalid-token', 'the relayed access token is not valid');
    }
    return { ...received, caller, signal };
  }

  /**
   * Under mutual TLS, the target the caller's certificate names (undefined when it names none).
   * Read once a call: grpc-js's `getAuthContext()` has Node build the whole peer certificate
   * object (its fingerprints included) each time it is asked, about 30 µs here (40 with the
   * target's lookup), and the refusal and the service check both need it.
   */
  private peerOf(call: { getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } } | null }): string | undefined {
    return this.options.tls ? targetOfPeer(call.getAuthContext()?.sslPeerCertificate) : undefined;
  }

  /** The service the caller calls as, when its certificate vouches for it (or there is no TLS at all). */
  private serviceOf(metadata: Metadata, caller: string | undefined): CallingService | undefined {
    const claimed = claimedServiceOf(metadata);
    if (claimed === undefined || !this.options.tls) return claimed;
    if (this.options.vouch?.(caller, claimed)) return claimed;
    this.logger.warn(
      { caller: caller ?? 'unknown', claimed },
      'gRPC call claims a service its certificate does not host: served as no service',
    );
    return undefined;
  }

  /** Under mutual TLS, a caller whose certificate's target may not call this contract is refused. */
  private refusal(caller: string | undefined, contract: Contract, method: string): ContractError | undefined {
    if (!this.options.tls || !this.options.authorize) return undefined;
    if (this.options.authorize(caller, contract, method)) return undefined;
    this.logger.warn({ caller: caller ?? 'unknown', contract: contract.name }, 'gRPC call refused: caller not allowed');
    return new ContractError(
      'permission-denied',
      'caller-not-allowed',
      `${caller ?? 'this caller'} may not call ${contract.name}`,
    );
  }

  private typed(error: unknown, what: string): ContractError {
    if (error instanceof ContractError) return error;
    this.logger.error({ err: error, call: what }, `${what} failed unexpectedly`);
    return internalError('internal-error', `${what} failed`);
  }
}

/**
 * The served call's abort signal. grpc-js reports a caller's cancellation (and the call's deadline
 * passing) as 'cancelled', which in one process would be the caller's own signal aborting: the
 * implementation then stops waiting and starts nothing new. It also emits 'cancelled' once any
 * status has been sent, so the handler stops listening as it answers. A signal costs about 6 µs to
 * make on Node 20 (0.1–0.2 µs on Node 24), a few per cent of a served call there.
 */
/**
 * Until the caller reads what was written, or goes: grpc-js emits no `drain` once the call is
 * cancelled, so waiting for it alone would hold the stream and its items for ever.
 */
function drainedOrCancelled(call: EventEmitter, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

class CallerCancellation {
  private readonly abort = new CallerAbort();
  readonly signal = this.abort.signal;
  private readonly cancelled = () => this.abort.abort();

  constructor(private readonly call: EventEmitter) {
    call.once('cancelled', this.cancelled);
  }

  answering(): void {
    this.call.off('cancelled', this.cancelled);
  }
}
