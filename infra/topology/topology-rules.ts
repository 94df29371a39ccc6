import { closestName } from './closest-name';
import { DEFAULT_DISCOVERY } from './topology';
import type { TopologyDocument, ValuePath } from './topology-document';
import type { TopologyIssue } from './topology-error';
import { NAME_PATTERN } from './topology-schema';

// Rules across fields, one function each. They read the raw value defensively: a part the schema
// rejects is skipped here (the schema has said what is wrong with it), so that all problems are
// reported in one go.

/** The edge's operations port, unless its topology names one: its public port + 1000 (3000 → 4000). */
export const DEFAULT_OPERATIONS_PORT_OFFSET = 1000;

/**
 * Where an edge serves /health, /ready and /metrics: its `operationsPort`, or its public port +
 * 1000; a public port of 0 (a free one) gets a free one too.
 */
export function operationsPortOf(http: { readonly port: number; readonly operationsPort?: number }): number {
  return http.operationsPort ?? (http.port === 0 ? 0 : http.port + DEFAULT_OPERATIONS_PORT_OFFSET);
}
/** Where a target listens and is dialled when its file names no host. */
export const LOCAL_HOST = '127.0.0.1';

/** A topology's raw value as every rule reads it. */
interface RawTopology {
  readonly document: TopologyDocument;
  readonly defaults: Record<string, unknown> | undefined;
  readonly contexts: Record<string, unknown> | undefined;
  /** Each target by name, with a helper for paths inside it. */
  readonly targets: ReadonlyArray<{
    readonly name: string;
    readonly target: Record<string, unknown> | undefined;
    at(...rest: (string | number)[]): ValuePath;
  }>;
  readonly raw: Record<string, unknown>;
  readonly known: readonly string[];
}

type Rule = (topology: RawTopology) => TopologyIssue[];

/** Every rule, in the order their issues are reported at one place of the file. */
const RULES: readonly Rule[] = [
  targetNames,
  modulesPlacedOnce,
  targetsThatDoNothing,
  canaries,
  extractions,
  legacyUpstreams,
  grpcAddresses,
  databaseChoices,
  oneEdge,
  listenersApart,
  contextsSection,
  discoveryTimings,
  kafkaBrokers,
];

export function checkAcrossFields(
  document: TopologyDocument,
  value: unknown,
  known: readonly string[],
): TopologyIssue[] {
  const root = asMap(value);
  const targets = asMap(root?.targets);
  if (!root || !targets) return [];
  const names = Object.keys(targets);
  if (names.length === 0) {
    return [
      document.issueAt(
        ['targets'],
        'targets lists no process — add at least one target (see infra/topology/README.md)',
        'key',
      ),
    ];
  }
  const topology: RawTopology = {
    document,
    raw: root,
    defaults: asMap(root.defaults),
    contexts: asMap(root.contexts),
    known,
    targets: names.map((name) => ({ name, target: asMap(targets[name]), at: (...rest) => ['targets', name, ...rest] })),
  };
  return RULES.flatMap((rule) => rule(topology));
}

/**
 * "did you mean …?" for a name not among `candidates`, or what the candidates are; also says
 * which candidate it suggested, so a rule can stop reporting that one as missing.
 */
export function didYouMean(
  typed: string,
  candidates: readonly string[],
  listed: string,
): { fix: string; suggestion?: string } {
  const suggestion = closestName(typed, candidates);
  return suggestion ? { fix: `did you mean "${suggestion}"?`, suggestion } : { fix: listed };
}

function targetNames({ document, targets }: RawTopology): TopologyIssue[] {
  return targets
    .filter(({ name }) => !NAME_PATTERN.test(name))
    .map(({ name, at }) =>
      document.issueAt(
        at(),
        `target name "${name}" must be lowercase letters, digits and "-", starting with a letter`,
        'key',
      ),
    );
}

/** Each known module in exactly one owning target, none unknown, none twice. */
function modulesPlacedOnce({ document, targets, known }: RawTopology): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const placements = new Map<string, { target: string; path: ValuePath }>();
  /** Known modules that a typo in some target most likely meant: not also reported as missing. */
  const meant = new Set<string>();
  for (const { name, target, at } of targets) {
    (asList(target?.modules) ?? []).forEach((module, index) => {
      if (typeof module !== 'string') return;
      if (!known.includes(module)) {
        const { fix, suggestion } = didYouMean(module, known, `the modules are: ${known.join(', ')}`);
        if (suggestion) meant.add(suggestion);
        issues.push(document.issueAt(at('modules', index), `module "${module}" is not a ficus module — ${fix}`));
        return;
      }
      // An extraction in progress runs its modules beside their owner: checked by extractions, not placed.
      if (typeof target?.extractedFrom === 'string') return;
      const first = placements.get(module);
      const here = at('modules', index);
      if (!first) {
        placements.set(module, { target: name, path: here });
      } else if (first.target === name) {
        issues.push(
          document.issueAt(
            here,
            `module "${module}" is listed twice in target "${name}" (lines ${document.lineOf(first.path)} and ` +
              `${document.lineOf(here)}) — remove one`,
          ),
        );
      } else {
        issues.push(
          document.issueAt(
            here,
            `module "${module}" is in two targets, "${first.target}" (line ${document.lineOf(first.path)}) and ` +
              `"${name}" (line ${document.lineOf(here)}) — a module runs in exactly one target; remove it ` +
              `from one of them`,
          ),
        );
      }
    });
  }
  const unplaced = known.filter((module) => !placements.has(module) && !meant.has(module));
  if (unplaced.length === 1) {
    issues.push(
      document.issueAt(
        ['targets'],
        `module "${unplaced[0]}" runs in no target — add it to the modules of one target`,
        'key',
      ),
    );
  } else if (unplaced.length > 1) {
    const list = unplaced.map((module) => `"${module}"`).join(', ');
    issues.push(
      document.issueAt(['targets'], `modules ${list} run in no target — add each to the modules of one target`, 'key'),
    );
  }
  return issues;
}

function targetsThatDoNothing({ document, targets, known }: RawTopology): TopologyIssue[] {
  return targets
    .filter(
      ({ target }) =>
        target &&
        hostedCount(target) === 0 &&
        target.edge !== true &&
        (target.modules === undefined || Array.isArray(target.modules)),
    )
    .map(({ name, target, at }) => {
      const listed = target!.modules !== undefined;
      return document.issueAt(
        listed ? at('modules') : at(),
        `target "${name}" hosts no module and is not the edge — list its modules (modules: ` +
          `[${known[0] ?? 'name'}]) or remove the target`,
        listed ? 'value' : 'key',
      );
    });
}

function canaries({ document, targets }: RawTopology): TopologyIssue[] {
  return targets
    .filter(({ target }) => target?.canary !== undefined && (hostedCount(target) === 0 || target.grpc === undefined))
    .map(({ name, at }) =>
      document.issueAt(
        at('canary'),
        `target "${name}" has a canary but no modules served over gRPC — a canary is a second version of a ` +
          `target that other processes call`,
        'key',
      ),
    );
}

/** A target being extracted names an owner that hosts its modules, and is reached over gRPC. */
function extractions({ document, targets }: RawTopology): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  for (const { name, target, at } of targets) {
    const from = target?.extractedFrom;
    if (typeof from !== 'string') continue;
    const owner = targets.find((candidate) => candidate.name === from)?.target;
    if (!owner || from === name || owner.extractedFrom !== undefined) {
      issues.push(
        document.issueAt(
          at('extractedFrom'),
          `target "${name}" is extracted from "${from}", which is no target hosting modules of its own — name ` +
            `the target that runs them now`,
        ),
      );
    } else {
      const ownerModules = asList(owner.modules) ?? [];
      (asList(target!.modules) ?? []).forEach((module, index) => {
        if (typeof module === 'string' && !ownerModules.includes(module)) {
          issues.push(
            document.issueAt(
              at('modules', index),
              `module "${module}" is being extracted from "${from}", which does not host it — list it there ` +
                `until \`ficus retire\``,
            ),
          );
        }
      });
    }
    if (target!.grpc === undefined) {
      issues.push(
        document.issueAt(
          at(),
          `target "${name}" is extracted from "${from}" but has no grpc: port — calls are shifted to it over gRPC`,
          'key',
        ),
      );
    }
    if (target!.edge === true) {
      issues.push(document.issueAt(at('edge'), `target "${name}" is being extracted and cannot be the edge too`));
    }
  }
  return issues;
}

function legacyUpstreams({ document, targets }: RawTopology): TopologyIssue[] {
  return targets
    .filter(({ target }) => target?.legacy !== undefined && target.edge !== true)
    .map(({ name, at }) =>
      document.issueAt(
        at('legacy'),
        `target "${name}" has a legacy upstream but is not the edge — only the edge proxies HTTP; move it to ` +
          `the target with "edge: true"`,
        'key',
      ),
    );
}

/** Where other targets dial a target's modules: a host for every port, a port wherever others call. */
function grpcAddresses({ document, targets, defaults }: RawTopology): TopologyIssue[] {
  const defaultHost = asString(asMap(defaults?.grpc)?.host);
  const issues: TopologyIssue[] = [];
  for (const { name, target, at } of targets) {
    if (!target) continue;
    const grpc = asMap(target.grpc);
    if (grpc && (asString(grpc.host) ?? defaultHost) === undefined) {
      issues.push(
        document.issueAt(
          at('grpc'),
          `target "${name}" has a gRPC port but no host — add "host:" to its grpc, or to defaults.grpc for all targets`,
          'key',
        ),
      );
    } else if (!grpc && targets.length > 1 && hostedCount(target) > 0) {
      issues.push(
        document.issueAt(
          at(),
          `target "${name}" hosts modules but has no gRPC address, and other targets call its modules — add ` +
            `"grpc: { host: <host>, port: <port> }"`,
          'key',
        ),
      );
    }
    // Only the edge has operations apart from its public API: elsewhere the one http listener is it.
    for (const [key, what] of [
      ['operationsHost', 'address'],
      ['operationsPort', 'port'],
    ] as const) {
      if (asMap(target.http)?.[key] === undefined || target.edge === true) continue;
      issues.push(
        document.issueAt(
          at('http', key),
          `target "${name}" serves no public API, so its http ${what} already serves only /health, /ready and ` +
            `/metrics — remove "${key}" (only the edge has one beside its public ${what})`,
          'key',
        ),
      );
    }
  }
  return issues;
}

function databaseChoices({ document, targets }: RawTopology): TopologyIssue[] {
  return targets
    .filter(({ target }) => {
      const database = asMap(target?.database);
      return asString(database?.url) !== undefined && asString(database?.name) !== undefined;
    })
    .map(({ name, at }) =>
      document.issueAt(
        at('database'),
        `target "${name}" gives both a database url and a database name — keep one: url for a server of its ` +
          `own, name for a database on the shared server`,
        'key',
      ),
    );
}

function oneEdge({ document, targets }: RawTopology): TopologyIssue[] {
  const edges = targets.filter(({ target }) => target?.edge === true).map(({ name }) => name);
  if (edges.length === 0) {
    return [
      document.issueAt(
        ['targets'],
        'no target serves the HTTP edge — add "edge: true" to the target that serves the public API',
        'key',
      ),
    ];
  }
  const firstLine = document.lineOf(['targets', edges[0], 'edge']);
  return edges
    .slice(1)
    .map((extra) =>
      document.issueAt(
        ['targets', extra, 'edge'],
        `targets "${edges[0]}" (line ${firstLine}) and "${extra}" (line ` +
          `${document.lineOf(['targets', extra, 'edge'])}) both serve the HTTP edge — keep "edge: true" on one`,
      ),
    );
}

interface Listener {
  readonly host: string;
  readonly port: number;
  readonly path: ValuePath;
  /** How to name it when its path alone would mislead: the edge's operations port, derived from http.port. */
  readonly label?: string;
}

/** Two listeners on one host and port cannot both start; `localhost` is `127.0.0.1`. */
function listenersApart({ document, targets, defaults }: RawTopology): TopologyIssue[] {
  const defaultHost = asString(asMap(defaults?.grpc)?.host);
  const listeners: Listener[] = targets.flatMap(({ name, target, at }) =>
    target ? listenersOf(name, target, at, defaultHost) : [],
  );
  const issues: TopologyIssue[] = [];
  const seen = new Map<string, Listener>();
  for (const listener of listeners) {
    const key = `${normalizeHost(listener.host)}:${listener.port}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, listener);
      continue;
    }
    issues.push(
      document.issueAt(
        listener.path,
        `${key} is used twice: ${first.label ?? first.path.join('.')} (line ${document.lineOf(first.path)}) ` +
          `and ${listener.label ?? listener.path.join('.')} (line ${document.lineOf(listener.path)}) — give ` +
          `one of them another port`,
      ),
    );
  }
  return issues;
}

/** A target's gRPC, HTTP and (on the edge) operations listeners. */
function listenersOf(
  name: string,
  target: Record<string, unknown>,
  at: (...rest: (string | number)[]) => ValuePath,
  defaultHost: string | undefined,
): Listener[] {
  const listeners: Listener[] = [];
  const grpc = asMap(target.grpc);
  const grpcHost = asString(grpc?.host) ?? defaultHost;
  const grpcPort = asPort(grpc?.listenPort) ?? asPort(grpc?.port);
  if (grpcHost !== undefined && grpcPort !== undefined) {
    listeners.push({
      host: grpcHost,
      port: grpcPort,
      path: at('grpc', grpc?.listenPort === undefined ? 'port' : 'listenPort'),
    });
  }
  const http = asMap(target.http);
  const httpPort = asPort(http?.port);
  if (httpPort === undefined) return listeners;
  const httpHost = asString(http?.host) ?? grpcHost ?? LOCAL_HOST;
  listeners.push({ host: httpHost, port: httpPort, path: at('http', 'port') });
  if (target.edge === true) {
    const derived = http?.operationsPort === undefined;
    listeners.push({
      host: asString(http?.operationsHost) ?? httpHost,
      port: operationsPortOf({ port: httpPort, operationsPort: asPort(http?.operationsPort) }),
      path: at('http', derived ? 'port' : 'operationsPort'),
      ...(derived
        ? {
            label:
              `targets.${name}.http.port + ${DEFAULT_OPERATIONS_PORT_OFFSET} (its operations port; set ` +
              `http.operationsPort to choose another)`,
          }
        : {}),
    });
  }
  return listeners;
}

/** `contexts:` names known modules, and their callers are the edge or known modules. */
function contextsSection({ document, contexts, known }: RawTopology): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  for (const module of Object.keys(contexts ?? {})) {
    if (!known.includes(module)) {
      const { fix } = didYouMean(module, known, `the modules are: ${known.join(', ')}`);
      issues.push(
        document.issueAt(['contexts', module], `contexts.${module}: "${module}" is not a ficus module — ${fix}`, 'key'),
      );
    }
    const callers = asMap(contexts?.[module])?.callers;
    (Array.isArray(callers) ? callers : []).forEach((caller, index) => {
      if (caller === 'edge' || known.includes(String(caller))) return;
      const { fix } = didYouMean(
        String(caller),
        [...known, 'edge'],
        `callers are "edge" or modules: ${known.join(', ')}`,
      );
      issues.push(
        document.issueAt(
          ['contexts', module, 'callers', index],
          `contexts.${module}.callers: "${String(caller)}" is neither "edge" nor a ficus module — ${fix}`,
        ),
      );
    });
  }
  return issues;
}

/** An entry must outlive a missed heartbeat or two, or a live instance flickers out of the registry. */
function discoveryTimings({ document, defaults }: RawTopology): TopologyIssue[] {
  const discovery = asMap(defaults?.discovery);
  const heartbeatMs =
    typeof discovery?.heartbeatMs === 'number' ? discovery.heartbeatMs : DEFAULT_DISCOVERY.heartbeatMs;
  const ttlMs = typeof discovery?.ttlMs === 'number' ? discovery.ttlMs : DEFAULT_DISCOVERY.ttlMs;
  if (ttlMs >= 2 * heartbeatMs) return [];
  const path =
    discovery?.ttlMs === undefined ? ['defaults', 'discovery', 'heartbeatMs'] : ['defaults', 'discovery', 'ttlMs'];
  return [
    document.issueAt(
      path,
      `defaults.discovery: ttlMs (${ttlMs}) must be at least twice heartbeatMs (${heartbeatMs}), or a live ` +
        `instance drops out of the registry after one late heartbeat`,
    ),
  ];
}

/** Events cross targets only between owners: a target being extracted serves calls alone. */
function kafkaBrokers({ document, targets, defaults }: RawTopology): TopologyIssue[] {
  const owners = targets.filter(({ target }) => target?.extractedFrom === undefined);
  if (owners.length <= 1 || asMap(defaults?.kafka)?.brokers !== undefined) return [];
  return [
    document.issueAt(
      ['defaults', 'kafka', 'brokers'],
      'events between targets travel over Kafka, but no brokers are given — add defaults.kafka.brokers, e.g. ' +
        '"brokers: ${KAFKA_BROKERS:-127.0.0.1:9092}"',
      'key',
    ),
  ];
}

/** The modules a target lists by name (what the schema may still reject aside). */
function hostedCount(target: Record<string, unknown>): number {
  return (asList(target.modules) ?? []).filter((module) => typeof module === 'string').length;
}

function normalizeHost(host: string): string {
  const lower = host.toLowerCase();
  return lower === 'localhost' ? LOCAL_HOST : lower;
}

export function asMap(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function asList(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function asPort(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535 ? value : undefined;
}
