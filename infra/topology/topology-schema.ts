import { z } from 'zod';
import { commaSeparated } from '@infra/config';

/**
 * The shape of a topology file. Rules that relate one part of the file to another (a module in
 * exactly one target, an address for every called target, no port used twice) are checked by the
 * loader, which can name both places involved; this schema checks each value on its own.
 */

export const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
const NAME_RULE = 'must be lowercase letters, digits and "-", starting with a letter';

const name = z.string().regex(NAME_PATTERN, { error: NAME_RULE });
const host = z.string().min(1);
const port = z.number().int().min(1).max(65_535);
const positive = z.number().int().min(1);

/** `[a:9092, b:9092]`, or `a:9092,b:9092` as one string (what a `${KAFKA_BROKERS}` gives). */
const brokers = z.preprocess(
  (value) => (typeof value === 'string' ? commaSeparated(value) : value),
  z.array(z.string().regex(/^[^\s:,]+:\d{1,5}$/, { error: 'must be host:port, e.g. 127.0.0.1:9092' })).min(1),
);

const GrpcDefaults = z.strictObject({
  host: host.optional(),
  deadlineMs: positive.optional(),
});

const KafkaDefaults = z.strictObject({
  brokers: brokers.optional(),
  partitions: positive.optional(),
});

const Backoff = z.strictObject({ initialMs: positive, maxMs: positive });
const Bulkhead = z.strictObject({ maxConcurrent: positive, maxQueued: z.number().int().min(0) });
const Breaker = z.strictObject({ failuresToOpen: positive, openForMs: positive, successesToClose: positive });
const Retries = z.number().int().min(0).max(10);

/**
 * Service discovery (docs/discovery.md, ADR 0030): `static` dials the address written here (in
 * Kubernetes, the Service's DNS name); `registry` dials the live instances that registered
 * themselves in the registry, balancing over them. Default static.
 */
const DiscoveryMode = z.enum(['static', 'registry']);
const DiscoveryDefaults = z.strictObject({
  mode: DiscoveryMode.optional(),
  /** How often an instance renews its entry, and after how long without renewal it is gone. */
  heartbeatMs: positive.optional(),
  ttlMs: positive.optional(),
});

/** How callers treat remote targets: see infra/resilience (ADR 0017). */
const ResilienceDefaults = z.strictObject({
  retries: Retries.optional(),
  backoff: Backoff.optional(),
  bulkhead: Bulkhead.optional(),
  breaker: Breaker.optional(),
});

/** Per contract method of a context: its retries and a cap on each attempt's time. */
const MethodPolicy = z.strictObject({ retries: Retries.optional(), timeoutMs: positive.optional() });

const Defaults = z.strictObject({
  grpc: GrpcDefaults.optional(),
  kafka: KafkaDefaults.optional(),
  resilience: ResilienceDefaults.optional(),
  discovery: DiscoveryDefaults.optional(),
});

const Grpc = z.strictObject({
  host: host.optional(),
  port,
  /** Where the process listens, when callers reach it at host:port through something in between. */
  listenPort: port.optional(),
  deadlineMs: positive.optional(),
  discovery: DiscoveryMode.optional(),
});

const Http = z.strictObject({
  host: host.optional(),
  port,
  /**
   * The edge's operations port: /health, /ready and /metrics, kept off the public API (default:
   * `port` + 1000). Other targets serve no public API, so their one port is their operations port.
   */
  operationsPort: port.optional(),
  /**
   * The address the edge's operations port listens on (default: `host`): loopback beside a public
   * API on every interface, so that /metrics and /ready stay on the machine.
   */
  operationsHost: host.optional(),
});

const Database = z.strictObject({
  url: z
    .url({
      protocol: /^postgres(ql)?$/,
      error: 'must be a PostgreSQL URL, e.g. postgres://user:password@host:5432/database',
    })
    .optional(),
  name: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, { error: 'must be a PostgreSQL database name: lowercase letters, digits and "_"' })
    .max(63)
    .optional(),
  /**
   * The database the process is pointed at (DATABASE_URL, or the embedded one), as a lone
   * target has: how a context retired from the monolith keeps its data where it is.
   */
  shared: z.literal(true).optional(),
});

/**
 * A second version of a target beside the first (same modules, same database), on ports of its
 * own: callers send it `percent` of their calls to the target — 0 or 100 is blue/green, anything
 * between a canary. `sticky: caller` keeps one end user on one version.
 */
const Canary = z.strictObject({
  grpc: z.strictObject({ host: host.optional(), port }),
  http: z.strictObject({ port }),
  percent: z.number().int().min(0).max(100),
  sticky: z.enum(['caller', 'none']).optional(),
});

/**
 * The edge's legacy upstream, the strangler fig's first step: the HTTP application ficus replaces.
 * Requests ficus has no route for, and those under `routes` (path prefixes ficus should not serve
 * yet), are proxied to it.
 */
const Legacy = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://legacy-shop:8080' }),
  routes: z.array(z.string().regex(/^\/[^\s]*$/, { error: 'must be a path prefix starting with "/"' })).optional(),
});

const Target = z.strictObject({
  edge: z.boolean().optional(),
  modules: z.array(z.string()).optional(),
  grpc: Grpc.optional(),
  http: Http,
  database: Database.optional(),
  /** Bulkhead and breaker for calls to this target (per target, never per method). */
  resilience: z.strictObject({ bulkhead: Bulkhead.optional(), breaker: Breaker.optional() }).optional(),
  canary: Canary.optional(),
  legacy: Legacy.optional(),
  /**
   * A strangler step in progress (`ficus extract`): this target runs modules that the named
   * target still hosts, on that target's database, serving only the calls shifted to it; the
   * named target keeps their events and their data until `ficus retire`.
   */
  extractedFrom: name.optional(),
});

const ContextSettings = z.strictObject({
  kafka: z.strictObject({ partitions: positive }).optional(),
  /**
   * Who may call this context's contracts over gRPC (checked under mutual TLS): `edge` (the
   * public API), or modules whose process may call it. Unset: any process of the topology.
   */
  callers: z.array(z.string()).optional(),
  resilience: z.strictObject({ methods: z.record(z.string(), MethodPolicy) }).optional(),
});

export const TopologyFileSchema = z.strictObject({
  name,
  defaults: Defaults.optional(),
  contexts: z.record(z.string(), ContextSettings).optional(),
  targets: z.record(z.string(), Target),
});

export type TopologyFile = z.infer<typeof TopologyFileSchema>;
export type TargetFile = z.infer<typeof Target>;

/** The keys a map at `path` may have, for "did you mean" hints on a typo. */
export function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType | undefined = TopologyFileSchema;
  for (const segment of path) {
    schema = childOf(unwrap(schema), segment);
    if (!schema) {
      return [];
    }
  }
  const object = unwrap(schema);
  return object instanceof z.ZodObject ? Object.keys(object.shape) : [];
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodPipe) {
    current = current instanceof z.ZodOptional ? (current.unwrap() as z.ZodType) : (current.out as z.ZodType);
  }
  return current;
}

function childOf(schema: z.ZodType | undefined, segment: PropertyKey): z.ZodType | undefined {
  if (schema instanceof z.ZodObject) {
    return (schema.shape as Record<string, z.ZodType>)[String(segment)];
  }
  if (schema instanceof z.ZodRecord) {
    return schema.valueType as z.ZodType;
  }
  if (schema instanceof z.ZodArray) {
    return schema.element as z.ZodType;
  }
  return undefined;
}
