import {
  Client,
  credentials,
  Metadata,
  status as GrpcStatus,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import { sharedRead } from '@infra/observability';
import type { DependencyCheck, DependencyStatus } from '@infra/runtime';

/**
 * Asked of a peer to see that it answers gRPC. No ficus process serves the standard health
 * service, so the answer is UNIMPLEMENTED, which proves just as well that the peer's server is up
 * and answering calls; a timeout or UNAVAILABLE says it is not.
 */
const PROBE_METHOD = '/grpc.health.v1.Health/Check';

/**
 * Does a peer process (a target this process routes calls to) answer at its address? A small call
 * on a channel of its own, with a one-second deadline: a real call rather than the channel's
 * connectivity state, because a connection can stay READY towards a peer that no longer answers
 * (a blackholed network) until keepalive notices. Reported at /ready, never gating it.
 */
export class GrpcPeerProbe implements DependencyCheck {
  readonly name: string;
  readonly gatesReadiness = false;
  readonly check: () => Promise<DependencyStatus>;
  private readonly client: Client;

  constructor(
    readonly target: string,
    readonly address: string,
    private readonly deadlineMs = 1_000,
    channelCredentials: ChannelCredentials = credentials.createInsecure(),
  ) {
    this.name = `peer:${target}`;
    this.client = new Client(address, channelCredentials, {
      // Notice a peer that came back within a second or two, not after grpc's 2-minute backoff.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1_000,
    });
    this.check = sharedRead(() => this.probe(), 1_000);
  }

  close(): void {
    this.client.close();
  }

  private probe(): Promise<DependencyStatus> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        PROBE_METHOD,
        (request: Buffer) => request,
        (answer: Buffer) => answer,
        Buffer.alloc(0),
        new Metadata(),
        { deadline: Date.now() + this.deadlineMs },
        (error: ServiceError | null) => {
          if (!error || error.code === GrpcStatus.UNIMPLEMENTED) {
            resolve({ up: true, detail: 'up' });
          } else {
            resolve({ up: false, detail: `${this.address}: ${GrpcStatus[error.code]} ${error.details}` });
          }
        },
      );
    });
  }
}
