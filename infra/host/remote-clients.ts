import { ResilientTransport, DEFAULT_REMOTE_POLICY, SYSTEM_CLOCK, type RemoteCallPolicy } from '@infra/resilience';
import type { ContractTransport } from '@infra/messaging';
import type { Topology } from '@infra/topology';

/**
 * The gRPC clients a process holds to other targets, each behind the breaker, bulkhead, retries
 * and deadlines the topology gives calls to that target; closed together when the process stops.
 */
export class RemoteClients {
  private readonly clients = new Map<string, { close(): void }>();
  private readonly guarded: ResilientTransport[] = [];

  constructor(private readonly topology: Topology) {}

  /** Keeps `client` under `key` (an address, `registry:<target>`) to close it with the others. */
  keep<T extends { close(): void }>(key: string, client: T): T {
    this.clients.set(key, client);
    return client;
  }

  kept(key: string): { close(): void } | undefined {
    return this.clients.get(key);
  }

  /** Breaker, bulkhead, retries and deadlines around one client of `target` (`name` labels its metrics). */
  guard(name: string, target: string, client: ContractTransport): ResilientTransport {
    const guarded = new ResilientTransport({
      target: name,
      inner: client,
      policy: this.policyFor(target),
      clock: SYSTEM_CLOCK,
      methodPolicyOf: (contract, method) => this.topology.resilience.methods[`${contract.context}.${method}`],
    });
    this.guarded.push(guarded);
    return guarded;
  }

  close(): void {
    this.clients.forEach((client) => client.close());
    this.guarded.forEach((transport) => transport.close());
  }

  /** ficus's defaults, then the topology's defaults, then what it says of calls to `target`. */
  private policyFor(target: string): RemoteCallPolicy {
    const { defaults, targets } = this.topology.resilience;
    const forTarget = targets[target] ?? {};
    return {
      ...DEFAULT_REMOTE_POLICY,
      retries: defaults.retries ?? DEFAULT_REMOTE_POLICY.retries,
      backoff: defaults.backoff ?? DEFAULT_REMOTE_POLICY.backoff,
      bulkhead: forTarget.bulkhead ?? defaults.bulkhead ?? DEFAULT_REMOTE_POLICY.bulkhead,
      breaker: { ...DEFAULT_REMOTE_POLICY.breaker, ...defaults.breaker, ...forTarget.breaker },
    };
  }
}
