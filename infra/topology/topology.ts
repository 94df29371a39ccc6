/** Where other targets reach a target's modules. */
export interface GrpcEndpoint {
  /** Where callers reach the target. */
  readonly host: string;
  readonly port: number;
  /**
   * Where the target's process listens: the same port, unless callers reach it through a proxy,
   * a sidecar or a load balancer at host:port.
   */
  readonly listenPort: number;
  /** Deadline of a call made to this target unless the caller's context has a nearer one. */
  readonly deadlineMs: number;
}

/** An HTTP listener of the process: the public API on the edge, or /health, /ready and /metrics. */
export interface HttpEndpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * The database a target's modules use (each still in a schema of its own, as its own role):
 * - `shared`: the database the process is pointed at (`DATABASE_URL` or the embedded one);
 * - `name`: a database of that name on the same server;
 * - `url`: a server and database of its own, used as is;
 * - `none`: the target hosts no module (the bare HTTP edge) and stores nothing.
 */
export type TargetDatabase =
  | { readonly kind: 'none' }
  | { readonly kind: 'shared' }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'url'; readonly url: string };

/** A second version of a target, its share of calls, and whether one end user stays on one version. */
export interface CanaryRoute {
  readonly grpc: GrpcEndpoint;
  readonly http: HttpEndpoint;
  readonly percent: number;
  readonly sticky: 'caller' | 'none';
}

/** The HTTP application the edge proxies what ficus does not serve (yet) to. */
export interface LegacyUpstream {
  readonly url: string;
  /** Path prefixes proxied even where ficus has a route: contexts not yet moved. */
  readonly routes: readonly string[];
}

/** One process to deploy: the modules it hosts, and whether it serves the public HTTP API. */
export interface DeployTarget {
  readonly name: string;
  readonly edge: boolean;
  readonly modules: readonly string[];
  /** Absent only where no other process calls in: a single-target topology, or the bare edge. */
  readonly grpc?: GrpcEndpoint;
  readonly http: HttpEndpoint;
  /**
   * Where its operators reach it: /health, /ready, /metrics. The edge's own port beside the
   * public API (`http.operationsPort`); any other target's `http` itself, which serves nothing else.
   */
  readonly operations: HttpEndpoint;
  readonly database: TargetDatabase;
  /** A second version beside this one, taking a share of the calls (blue/green, canary). */
  readonly canary?: CanaryRoute;
  /** On the edge: the application ficus is replacing, for the routes it does not serve. */
  readonly legacy?: LegacyUpstream;
  /**
   * Set while a strangler step is in progress: the target whose modules this one runs beside it.
   * That target still owns them (their events, their data); this one serves the calls shifted to it.
   */
  readonly extractedFrom?: string;
}

export interface KafkaSettings {
  /** Empty in a single-target topology that names none: events then never leave the process. */
  readonly brokers: readonly string[];
  /** Partitions of the topic of each context (one topic per context). */
  readonly partitions: Readonly<Record<string, number>>;
}

export interface BulkheadSettings {
  readonly maxConcurrent: number;
  readonly maxQueued: number;
}

export interface BreakerSettings {
  readonly failuresToOpen: number;
  readonly openForMs: number;
  readonly successesToClose: number;
}

export interface MethodPolicySettings {
  readonly retries?: number;
  readonly timeoutMs?: number;
}

/** What the topology says of calls between processes; unset values take ficus's defaults. */
export interface ResilienceSettings {
  readonly defaults: {
    readonly retries?: number;
    readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
    readonly bulkhead?: BulkheadSettings;
    readonly breaker?: BreakerSettings;
  };
  /** By target name: the bulkhead and breaker of calls to it. */
  readonly targets: Readonly<
    Record<string, { readonly bulkhead?: BulkheadSettings; readonly breaker?: BreakerSettings }>
  >;
  /** By `<context>.<method>`, e.g. `payments.getPayment`. */
  readonly methods: Readonly<Record<string, MethodPolicySettings>>;
}

/**
 * How callers find a target's instances (docs/discovery.md, ADR 0030): `static` dials its address
 * from the topology (in Kubernetes, the Service's DNS name); `registry` dials the instances that
 * registered themselves and renew their entry every `heartbeatMs`, until `ttlMs` without renewal.
 */
export interface DiscoverySettings {
  readonly heartbeatMs: number;
  readonly ttlMs: number;
  /** The targets found through the registry; every other target is dialled at its static address. */
  readonly registryTargets: readonly string[];
}

export const DEFAULT_DISCOVERY: DiscoverySettings = { heartbeatMs: 2_000, ttlMs: 6_000, registryTargets: [] };

/**
 * Where each bounded context runs: the only thing that differs between the monolith and split
 * services. Built by the loader from a validated file, so its answers never contradict each other.
 */
export class Topology {
  private readonly targetsByName: ReadonlyMap<string, DeployTarget>;
  private readonly targetsByModule: ReadonlyMap<string, DeployTarget>;

  constructor(
    readonly name: string,
    /** The file it was read from, for messages. */
    readonly source: string,
    /** In the order of the file. */
    readonly targets: readonly DeployTarget[],
    readonly kafka: KafkaSettings,
    readonly resilience: ResilienceSettings = { defaults: {}, targets: {}, methods: {} },
    /** By context: who may call it (`edge` or module names); absent: any process of the topology. */
    readonly callers: Readonly<Record<string, readonly string[]>> = {},
    readonly discovery: DiscoverySettings = DEFAULT_DISCOVERY,
  ) {
    this.targetsByName = new Map(targets.map((target) => [target.name, target]));
    this.targetsByModule = new Map(
      targets
        .filter((target) => !target.extractedFrom)
        .flatMap((target) => target.modules.map((module) => [module, target] as const)),
    );
  }

  /** The target a module is being extracted into (`ficus extract`), while its owner still hosts it. */
  extractionOf(module: string): DeployTarget | undefined {
    return this.targets.find((target) => target.extractedFrom && target.modules.includes(module));
  }

  /** All modules the topology places, in the order of the file. */
  get modules(): readonly string[] {
    return [...this.targetsByModule.keys()];
  }

  /** True when everything runs in one process: no call or event leaves it. */
  get isSingleProcess(): boolean {
    return this.targets.length === 1;
  }

  target(name: string): DeployTarget {
    const target = this.targetsByName.get(name);
    if (!target) {
      throw new Error(
        `topology ${this.name} (${this.source}) has no target "${name}"; its targets: ` +
          `${[...this.targetsByName.keys()].join(', ')}`,
      );
    }
    return target;
  }

  targetOf(module: string): DeployTarget {
    const target = this.targetsByModule.get(module);
    if (!target) {
      throw new Error(
        `topology ${this.name} (${this.source}) places no module "${module}"; its modules: ${this.modules.join(', ')}`,
      );
    }
    return target;
  }

  /** Whether `target` is a process of this topology. */
  knows(target: string | undefined): boolean {
    return target !== undefined && this.targetsByName.has(target);
  }

  /**
   * Whether the process of `callerTarget` may call the contracts of `context`: the edge when
   * `edge` is listed, any process that hosts a listed module; everyone of this topology when the
   * context lists no callers; never a process the topology does not know.
   */
  mayCall(callerTarget: string | undefined, context: string): boolean {
    const caller = callerTarget === undefined ? undefined : this.targetsByName.get(callerTarget);
    if (!caller) return false;
    const allowed = this.callers[context];
    if (!allowed) return true;
    return (caller.edge && allowed.includes('edge')) || caller.modules.some((module) => allowed.includes(module));
  }

  /** Whether the process of `target` hosts `service`: one of its modules, or the edge. */
  hosts(target: string | undefined, service: string): boolean {
    const host = target === undefined ? undefined : this.targetsByName.get(target);
    if (!host) return false;
    return service === 'edge' ? host.edge : host.modules.includes(service);
  }

  modulesOf(target: string): readonly string[] {
    return this.target(target).modules;
  }

  /** Whether a call from one module to the other stays in the process (no serialization, no network). */
  isColocated(moduleA: string, moduleB: string): boolean {
    return this.targetOf(moduleA) === this.targetOf(moduleB);
  }

  /** The target that serves the public HTTP API; a topology has exactly one. */
  edgeTarget(): DeployTarget {
    const edge = this.targets.find((target) => target.edge);
    if (!edge) {
      throw new Error(`topology ${this.name} (${this.source}) has no edge target`); // the loader forbids this
    }
    return edge;
  }

  /** Where other targets call `target`'s modules; an error for a target nobody may call. */
  addressOf(target: string): GrpcEndpoint {
    const grpc = this.target(target).grpc;
    if (!grpc) {
      throw new Error(
        `target "${target}" of topology ${this.name} (${this.source}) has no gRPC address: ` +
          (this.isSingleProcess
            ? 'it is the only process, so nothing calls it over the network'
            : 'it hosts no module'),
      );
    }
    return grpc;
  }

  /** How callers find `target`: at its address in this file, or in the registry. */
  discoveryOf(target: string): 'static' | 'registry' {
    return !this.isSingleProcess && this.discovery.registryTargets.includes(this.target(target).name)
      ? 'registry'
      : 'static';
  }

  /** The same topology with one target changed (a second instance on other ports, say). */
  withTarget(name: string, change: (target: DeployTarget) => DeployTarget): Topology {
    const targets = this.targets.map((target) => (target.name === this.target(name).name ? change(target) : target));
    return new Topology(this.name, this.source, targets, this.kafka, this.resilience, this.callers, this.discovery);
  }

  /** Partitions of the topic that carries `module`'s integration events. */
  partitionsOf(module: string): number {
    const partitions = this.kafka.partitions[module];
    if (partitions === undefined) {
      throw new Error(`topology ${this.name} (${this.source}) places no module "${module}"`);
    }
    return partitions;
  }
}
