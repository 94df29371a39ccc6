import type { INestApplication } from '@nestjs/common';
import type { Contract } from '@contracts/kernel';
import { defineFlag, FlagDeclarations, Flags } from '@infra/flags';
import { shareOf } from '@infra/extraction';
import { ContractBus, WeightedContractTransport, type ContractTransport } from '@infra/messaging';
import {
  BalancedContractTransport,
  channelCredentialsOf,
  GrpcContractTransport,
  type EndpointSources,
  type GrpcTls,
} from '@infra/messaging/grpc';
import { CalledContracts, ProcessReadiness } from '@infra/runtime';
import type { Topology } from '@infra/topology';
import { GrpcPeerProbe } from './grpc-peer.probe';
import type { RemoteClients } from './remote-clients';

export interface RemoteRoutesOptions {
  readonly topology: Topology;
  /** The deploy target this process is. */
  readonly target: string;
  readonly contracts: readonly Contract[];
  readonly clients: RemoteClients;
  readonly tls?: GrpcTls;
  /** Where the instances of targets the topology finds through the registry are (ADR 0030). */
  readonly discovery?: EndpointSources;
}

/**
 * Routes the contracts served elsewhere to the target that serves them: one guarded client per
 * remote target (a failing target is held off as a whole), balanced over its instances when the
 * registry finds it, split with its canary by the share in `route.<target>.canary` (ADR 0032).
 * The targets this process calls are reported by its readiness as peers.
 */
export class RemoteRoutes {
  private readonly routes = new Map<string, ContractTransport>();
  private readonly peers = new Map<string, { close(): void }>();
  private readonly readinessChecks: Array<{ forget(): void }> = [];

  constructor(
    private readonly app: INestApplication,
    private readonly options: RemoteRoutesOptions,
  ) {}

  /**
   * Declares the flag that holds the share of each canary this process calls (default the
   * topology's percent), so `ficus flags set` can move traffic at run time: `on` sends every call
   * to the canary, `off` none. Call before app.init().
   */
  declareFlags(): void {
    const { topology, target } = this.options;
    this.app.get(FlagDeclarations).add(
      topology.targets
        .filter((serving) => serving.canary && serving.name !== target)
        .map((serving) =>
          defineFlag({
            name: routeFlagOf(serving.name),
            default: serving.canary!.percent,
            description:
              `share of calls to ${serving.name} that go to its canary (topology default ` +
              `${serving.canary!.percent} %)`,
          }),
        ),
    );
  }

  /** Call after the app initialised (modules serve their contracts then), before it takes traffic. */
  route(): void {
    const { topology, target, contracts } = this.options;
    const bus = this.app.get(ContractBus);
    const called = this.app.get(CalledContracts);
    for (const contract of contracts) {
      if (bus.inProcess.serves(contract)) continue;
      const serving = topology.targetOf(contract.context);
      if (serving.name === target) {
        throw new Error(`${contract.name}: its module ${contract.context} runs in ${target} but does not serve it`);
      }
      bus.route(contract, this.routeTo(serving.name));
      // A peer is a target this process calls, not every target the bus could route to.
      if (called.has(contract)) this.reportPeer(serving.name);
    }
  }

  stop(): void {
    this.readinessChecks.forEach((check) => check.forget());
    this.peers.forEach((peer) => peer.close());
  }

  private routeTo(serving: string): ContractTransport {
    const existing = this.routes.get(serving);
    if (existing) return existing;
    const { topology, clients } = this.options;
    const credentials = this.options.tls && channelCredentialsOf(this.options.tls, serving);
    const { host, port } = topology.addressOf(serving);
    const address = `${host}:${port}`;
    // A registry-discovered target: a channel per live instance, balanced (ADR 0030).
    const client =
      topology.discoveryOf(serving) === 'registry'
        ? clients.keep(
            `registry:${serving}`,
            new BalancedContractTransport({
              target: serving,
              source: this.requireDiscovery(serving).sourceOf(serving),
              connect: (endpoint) => new GrpcContractTransport({ address: endpoint.address, credentials }),
            }),
          )
        : clients.keep(address, new GrpcContractTransport({ address, credentials }));
    let route: ContractTransport = clients.guard(serving, serving, client);
    // A second version of the target beside the first takes its share of the calls, each version
    // behind a breaker of its own (ADR 0032).
    const canary = topology.target(serving).canary;
    if (canary) {
      const flags = this.app.get(Flags);
      const canaryAddress = `${canary.grpc.host}:${canary.grpc.port}`;
      const canaryClient = clients.keep(
        canaryAddress,
        new GrpcContractTransport({ address: canaryAddress, credentials }),
      );
      route = new WeightedContractTransport({
        target: serving,
        primary: { name: 'stable', transport: route },
        secondary: { name: 'canary', transport: clients.guard(`${serving}-canary`, serving, canaryClient) },
        percent: () => shareOf(flags.state(routeFlagOf(serving))),
        stickyPerCaller: canary.sticky === 'caller',
      });
    }
    this.routes.set(serving, route);
    return route;
  }

  private reportPeer(serving: string): void {
    if (this.peers.has(serving)) return;
    const { topology, clients } = this.options;
    const balanced = clients.kept(`registry:${serving}`);
    const { host, port } = topology.addressOf(serving);
    // A discovered target's balancer reports its instances itself; one address says little there.
    const peer =
      balanced instanceof BalancedContractTransport
        ? balanced
        : new GrpcPeerProbe(
            serving,
            `${host}:${port}`,
            undefined,
            this.options.tls && channelCredentialsOf(this.options.tls, serving),
          );
    this.peers.set(serving, peer);
    this.readinessChecks.push(this.app.get(ProcessReadiness).add(peer));
  }

  private requireDiscovery(target: string): EndpointSources {
    if (!this.options.discovery) {
      throw new Error(
        `${target} is found through the registry (topology discovery: registry), but this process has no ` +
          `registry watcher`,
      );
    }
    return this.options.discovery;
  }
}

/** The flag that holds the share of calls a target's canary takes. */
export function routeFlagOf(target: string): string {
  return `route.${target}.canary`;
}
