import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { closestName } from './closest-name';
import type { Environment } from './env-interpolation';
import { KNOWN_MODULES } from './known-modules';
import { DEFAULT_DISCOVERY, type DeployTarget, type TargetDatabase, Topology } from './topology';
import { TopologyDocument, type ValuePath } from './topology-document';
import { TopologyError, type TopologyIssue } from './topology-error';
import { allowedKeysAt, NAME_PATTERN, type TargetFile, type TopologyFile, TopologyFileSchema } from './topology-schema';

export interface TopologyOptions {
  /** Where `${VAR}` references are read; `process.env` unless given. */
  readonly env?: Environment;
  /** The modules the topology must place, each exactly once; ficus's seven unless given. */
  readonly modules?: readonly string[];
}

export const DEFAULT_DEADLINE_MS = 5000;
export const DEFAULT_PARTITIONS = 6;
/** The edge's operations port, unless its topology names one: its public port + 1000 (3000 → 4000). */
export const DEFAULT_OPERATIONS_PORT_OFFSET = 1000;
/** The files shipped next to this loader: `monolith`, `split`, `hybrid`. */
export const SHIPPED_TOPOLOGIES = ['monolith', 'split', 'hybrid'] as const;

export function shippedTopologyPath(name: (typeof SHIPPED_TOPOLOGIES)[number]): string {
  return join(__dirname, `${name}.yaml`);
}

/** Reads and validates a topology file; a `TopologyError` lists everything wrong with it. */
export function loadTopology(path: string, options: TopologyOptions = {}): Topology {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new TopologyError([{ file: path, message: `cannot read the topology file (${code}) — check the path` }]);
  }
  return parseTopology(text, path, options);
}

/** Validates topology YAML; `fileName` is only used to say where a problem is. */
export function parseTopology(text: string, fileName: string, options: TopologyOptions = {}): Topology {
  const env = options.env ?? process.env;
  const known = options.modules ?? KNOWN_MODULES;

  const { document, issues: syntaxIssues } = TopologyDocument.parse(text, fileName);
  if (syntaxIssues.length > 0) {
    throw new TopologyError(sorted(syntaxIssues)); // the tree of a broken file says nothing reliable
  }
  if (document.isEmpty) {
    throw new TopologyError([document.issueAt([], 'the file is empty — a topology needs "name:" and "targets:" (see infra/topology/README.md)')]);
  }

  const { value, issues: envIssues, failedPaths } = document.toValue(env);
  const parsed = TopologyFileSchema.safeParse(value, { reportInput: true });
  const schemaIssues = parsed.success
    ? []
    : parsed.error.issues.filter((issue) => !failedPaths.some((failed) => startsWith(issue.path, failed))).flatMap((issue) => describeSchemaIssue(document, issue));
  const crossIssues = checkAcrossFields(document, value, known);

  const issues = [...envIssues, ...schemaIssues, ...crossIssues];
  if (issues.length > 0 || !parsed.success) {
    throw new TopologyError(sorted(issues));
  }
  return build(parsed.data, fileName, known);
}

// ---------------------------------------------------------------------------------------------
// Schema issues: zod knows what is wrong; the document knows where, and the message says what to do.

function describeSchemaIssue(document: TopologyDocument, issue: z.core.$ZodIssue): TopologyIssue[] {
  const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
  const where = path.length > 0 ? path.join('.') : 'the topology';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(path);
      return issue.keys.map((key) => {
        const suggestion = closestName(key, allowed);
        const fix = suggestion ? `did you mean "${suggestion}"?` : `remove it (allowed here: ${allowed.join(', ')})`;
        const place = path.length > 0 ? `in ${where}` : 'at the top level';
        return document.issueAt([...path, key], `unknown key "${key}" ${place} — ${fix}`, 'key');
      });
    }
    case 'invalid_type': {
      if (issue.input === undefined) {
        return [document.issueAt(path, `${where} is missing — ${hintForMissing(path)}`, 'key')];
      }
      if (issue.input === null && (issue.expected === 'object' || issue.expected === 'record')) {
        return [document.issueAt(path, `${where} is empty — ${hintForMissing(path)}`, 'key')];
      }
      return [document.issueAt(path, `${where} must be ${describeExpected(issue.expected)}, not ${describeInput(issue.input)}`)];
    }
    case 'too_small':
      if (issue.origin === 'array') {
        return [document.issueAt(path, `${where} must list at least ${issue.minimum}`)];
      }
      if (issue.origin === 'string') {
        return [document.issueAt(path, `${where} must not be empty`)];
      }
      return [document.issueAt(path, `${where} must be ${rangeOf(path, `at least ${issue.minimum}`)}, not ${describeInput(issue.input)}`)];
    case 'too_big':
      if (issue.origin === 'string') {
        return [document.issueAt(path, `${where} must be at most ${issue.maximum} characters long`)];
      }
      return [document.issueAt(path, `${where} must be ${rangeOf(path, `at most ${issue.maximum}`)}, not ${describeInput(issue.input)}`)];
    default:
      return [document.issueAt(path, `${where} ${issue.message}`)];
  }
}

function hintForMissing(path: ValuePath): string {
  const last = path[path.length - 1];
  switch (last) {
    case 'name':
      return 'add "name: <topology name>"';
    case 'targets':
      return 'add "targets:" with one entry per process (see infra/topology/README.md)';
    case 'http':
      return 'add "http: { port: <number> }" (the public API on the edge, with /health, /ready, /metrics on its operations port; /health, /ready, /metrics elsewhere)';
    case 'port':
      return 'add "port: <number>"';
    default:
      return `add "${String(last)}:"`;
  }
}

function rangeOf(path: ValuePath, fallback: string): string {
  return path[path.length - 1] === 'port' ? 'a port between 1 and 65535' : fallback;
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'string':
      return 'a string';
    case 'object':
    case 'record':
      return 'a map of "key: value" entries';
    case 'array':
      return 'a list ([a, b] or one "- item" per line)';
    default:
      return expected;
  }
}

function describeInput(input: unknown): string {
  if (input === null) {
    return 'empty';
  }
  if (Array.isArray(input)) {
    return 'a list';
  }
  if (typeof input === 'object') {
    return 'a map';
  }
  if (typeof input === 'string') {
    return JSON.stringify(input);
  }
  return String(input);
}

// ---------------------------------------------------------------------------------------------
// Rules across fields. They read the raw value defensively: a part the schema rejects is skipped
// here (the schema has said what is wrong with it), so that all problems are reported in one go.

interface Placement {
  readonly target: string;
  readonly path: ValuePath;
}

function checkAcrossFields(document: TopologyDocument, value: unknown, known: readonly string[]): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const root = asMap(value);
  const targets = asMap(root?.targets);
  if (!root || !targets) {
    return issues;
  }
  const defaults = asMap(root.defaults);
  const defaultGrpcHost = asString(asMap(defaults?.grpc)?.host);
  const names = Object.keys(targets);
  const multiTarget = names.length > 1;
  const knownSet = new Set(known);

  if (names.length === 0) {
    issues.push(document.issueAt(['targets'], 'targets lists no process — add at least one target (see infra/topology/README.md)', 'key'));
    return issues;
  }

  const placements = new Map<string, Placement>();
  /** Known modules that a typo in some target most likely meant: not also reported as missing. */
  const meant = new Set<string>();
  const edges: string[] = [];
  const listeners: Listener[] = [];

  for (const name of names) {
    const target = asMap(targets[name]);
    const at = (...rest: (string | number)[]): ValuePath => ['targets', name, ...rest];
    if (!NAME_PATTERN.test(name)) {
      issues.push(document.issueAt(at(), `target name "${name}" must be lowercase letters, digits and "-", starting with a letter`, 'key'));
    }
    if (!target) {
      continue;
    }
    const edge = target.edge === true;
    if (edge) {
      edges.push(name);
    }

    const modules = asList(target.modules) ?? [];
    let hosted = 0;
    modules.forEach((module, index) => {
      if (typeof module !== 'string') {
        return;
      }
      hosted++;
      if (!knownSet.has(module)) {
        const suggestion = closestName(module, known);
        const fix = suggestion ? `did you mean "${suggestion}"?` : `the modules are: ${known.join(', ')}`;
        if (suggestion) {
          meant.add(suggestion);
        }
        issues.push(document.issueAt(at('modules', index), `module "${module}" is not a ficus module — ${fix}`));
        return;
      }
      // An extraction in progress runs its modules beside their owner: checked below, not placed.
      if (typeof target.extractedFrom === 'string') return;
      const first = placements.get(module);
      if (!first) {
        placements.set(module, { target: name, path: at('modules', index) });
      } else if (first.target === name) {
        issues.push(
          document.issueAt(
            at('modules', index),
            `module "${module}" is listed twice in target "${name}" (lines ${document.lineOf(first.path)} and ${document.lineOf(at('modules', index))}) — remove one`,
          ),
        );
      } else {
        issues.push(
          document.issueAt(
            at('modules', index),
            `module "${module}" is in two targets, "${first.target}" (line ${document.lineOf(first.path)}) and "${name}" (line ${document.lineOf(at('modules', index))}) — a module runs in exactly one target; remove it from one of them`,
          ),
        );
      }
    });

    if (hosted === 0 && !edge && (target.modules === undefined || Array.isArray(target.modules))) {
      const path = target.modules === undefined ? at() : at('modules');
      issues.push(
        document.issueAt(path, `target "${name}" hosts no module and is not the edge — list its modules (modules: [${known[0] ?? 'name'}]) or remove the target`, target.modules === undefined ? 'key' : 'value'),
      );
    }

    if (target.canary !== undefined && (hosted === 0 || target.grpc === undefined)) {
      issues.push(document.issueAt(at('canary'), `target "${name}" has a canary but no modules served over gRPC — a canary is a second version of a target that other processes call`, 'key'));
    }
    if (typeof target.extractedFrom === 'string') {
      const from = asMap(targets[target.extractedFrom]);
      const fromModules = asList(from?.modules) ?? [];
      if (!from || target.extractedFrom === name || from.extractedFrom !== undefined) {
        issues.push(document.issueAt(at('extractedFrom'), `target "${name}" is extracted from "${target.extractedFrom}", which is no target hosting modules of its own — name the target that runs them now`));
      } else {
        modules.forEach((module, index) => {
          if (typeof module === 'string' && !fromModules.includes(module)) {
            issues.push(document.issueAt(at('modules', index), `module "${module}" is being extracted from "${target.extractedFrom}", which does not host it — list it there until \`ficus retire\``));
          }
        });
      }
      if (target.grpc === undefined) {
        issues.push(document.issueAt(at(), `target "${name}" is extracted from "${target.extractedFrom}" but has no grpc: port — calls are shifted to it over gRPC`, 'key'));
      }
      if (target.edge === true) {
        issues.push(document.issueAt(at('edge'), `target "${name}" is being extracted and cannot be the edge too`));
      }
    }
    if (target.legacy !== undefined && !edge) {
      issues.push(document.issueAt(at('legacy'), `target "${name}" has a legacy upstream but is not the edge — only the edge proxies HTTP; move it to the target with "edge: true"`, 'key'));
    }

    const grpc = asMap(target.grpc);
    const grpcHost = asString(grpc?.host) ?? defaultGrpcHost;
    if (grpc && grpcHost === undefined) {
      issues.push(document.issueAt(at('grpc'), `target "${name}" has a gRPC port but no host — add "host:" to its grpc, or to defaults.grpc for all targets`, 'key'));
    } else if (!grpc && multiTarget && hosted > 0) {
      issues.push(
        document.issueAt(
          at(),
          `target "${name}" hosts modules but has no gRPC address, and other targets call its modules — add "grpc: { host: <host>, port: <port> }"`,
          'key',
        ),
      );
    }
    const grpcPort = asPort(grpc?.listenPort) ?? asPort(grpc?.port);
    if (grpcHost !== undefined && grpcPort !== undefined) {
      listeners.push({ host: grpcHost, port: grpcPort, path: at('grpc', grpc?.listenPort === undefined ? 'port' : 'listenPort') });
    }
    const http = asMap(target.http);
    const httpPort = asPort(http?.port);
    const httpHost = asString(http?.host) ?? grpcHost ?? LOCAL_HOST;
    if (httpPort !== undefined) {
      listeners.push({ host: httpHost, port: httpPort, path: at('http', 'port') });
    }
    if (http?.operationsPort !== undefined && target.edge !== true) {
      issues.push(
        document.issueAt(
          at('http', 'operationsPort'),
          `target "${name}" serves no public API, so its http port already serves only /health, /ready and /metrics — remove "operationsPort" (only the edge has one beside its public port)`,
          'key',
        ),
      );
    } else if (httpPort !== undefined && target.edge === true) {
      const operationsPort = asPort(http?.operationsPort) ?? httpPort + DEFAULT_OPERATIONS_PORT_OFFSET;
      const derived = http?.operationsPort === undefined;
      listeners.push({
        host: httpHost,
        port: operationsPort,
        path: at('http', derived ? 'port' : 'operationsPort'),
        ...(derived ? { label: `targets.${name}.http.port + ${DEFAULT_OPERATIONS_PORT_OFFSET} (its operations port; set http.operationsPort to choose another)` } : {}),
      });
    }

    const database = asMap(target.database);
    if (asString(database?.url) !== undefined && asString(database?.name) !== undefined) {
      issues.push(
        document.issueAt(at('database'), `target "${name}" gives both a database url and a database name — keep one: url for a server of its own, name for a database on the shared server`, 'key'),
      );
    }
  }

  const unplaced = known.filter((module) => !placements.has(module) && !meant.has(module));
  if (unplaced.length === 1) {
    issues.push(document.issueAt(['targets'], `module "${unplaced[0]}" runs in no target — add it to the modules of one target`, 'key'));
  } else if (unplaced.length > 1) {
    const list = unplaced.map((module) => `"${module}"`).join(', ');
    issues.push(document.issueAt(['targets'], `modules ${list} run in no target — add each to the modules of one target`, 'key'));
  }

  if (edges.length === 0) {
    issues.push(document.issueAt(['targets'], 'no target serves the HTTP edge — add "edge: true" to the target that serves the public API', 'key'));
  }
  for (const extra of edges.slice(1)) {
    const firstLine = document.lineOf(['targets', edges[0], 'edge']);
    issues.push(
      document.issueAt(
        ['targets', extra, 'edge'],
        `targets "${edges[0]}" (line ${firstLine}) and "${extra}" (line ${document.lineOf(['targets', extra, 'edge'])}) both serve the HTTP edge — keep "edge: true" on one`,
      ),
    );
  }

  issues.push(...portClashes(document, listeners));

  const contexts = asMap(root.contexts);
  for (const module of Object.keys(contexts ?? {})) {
    if (!knownSet.has(module)) {
      const suggestion = closestName(module, known);
      const fix = suggestion ? `did you mean "${suggestion}"?` : `the modules are: ${known.join(', ')}`;
      issues.push(document.issueAt(['contexts', module], `contexts.${module}: "${module}" is not a ficus module — ${fix}`, 'key'));
    }
    const callers = asMap(contexts?.[module])?.callers;
    (Array.isArray(callers) ? callers : []).forEach((caller, index) => {
      if (caller === 'edge' || knownSet.has(String(caller))) return;
      const suggestion = closestName(String(caller), [...known, 'edge']);
      const fix = suggestion ? `did you mean "${suggestion}"?` : `callers are "edge" or modules: ${known.join(', ')}`;
      issues.push(document.issueAt(['contexts', module, 'callers', index], `contexts.${module}.callers: "${String(caller)}" is neither "edge" nor a ficus module — ${fix}`));
    });
  }

  // An entry must outlive a missed heartbeat or two, or a live instance flickers out of the registry.
  const discovery = asMap(defaults?.discovery);
  const heartbeatMs = typeof discovery?.heartbeatMs === 'number' ? discovery.heartbeatMs : DEFAULT_DISCOVERY.heartbeatMs;
  const ttlMs = typeof discovery?.ttlMs === 'number' ? discovery.ttlMs : DEFAULT_DISCOVERY.ttlMs;
  if (ttlMs < 2 * heartbeatMs) {
    const path = discovery?.ttlMs === undefined ? ['defaults', 'discovery', 'heartbeatMs'] : ['defaults', 'discovery', 'ttlMs'];
    issues.push(document.issueAt(path, `defaults.discovery: ttlMs (${ttlMs}) must be at least twice heartbeatMs (${heartbeatMs}), or a live instance drops out of the registry after one late heartbeat`));
  }

  // Events cross targets only between owners: a target being extracted serves calls alone.
  const owners = names.filter((name) => asMap(targets[name])?.extractedFrom === undefined);
  if (owners.length > 1 && asMap(defaults?.kafka)?.brokers === undefined) {
    issues.push(
      document.issueAt(
        ['defaults', 'kafka', 'brokers'],
        'events between targets travel over Kafka, but no brokers are given — add defaults.kafka.brokers, e.g. "brokers: ${KAFKA_BROKERS:-127.0.0.1:9092}"',
        'key',
      ),
    );
  }
  return issues;
}

const LOCAL_HOST = '127.0.0.1';

interface Listener {
  readonly host: string;
  readonly port: number;
  readonly path: ValuePath;
  /** How to name it when its path alone would mislead: the edge's operations port, derived from http.port. */
  readonly label?: string;
}

/** Two listeners on one host and port cannot both start; `localhost` is `127.0.0.1`. */
function portClashes(document: TopologyDocument, listeners: readonly Listener[]): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const seen = new Map<string, Listener>();
  for (const listener of listeners) {
    const host = normalizeHost(listener.host);
    const key = `${host}:${listener.port}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, listener);
      continue;
    }
    issues.push(
      document.issueAt(
        listener.path,
        `${key} is used twice: ${first.label ?? first.path.join('.')} (line ${document.lineOf(first.path)}) and ${listener.label ?? listener.path.join('.')} (line ${document.lineOf(listener.path)}) — give one of them another port`,
      ),
    );
  }
  return issues;
}

function normalizeHost(host: string): string {
  const lower = host.toLowerCase();
  return lower === 'localhost' ? LOCAL_HOST : lower;
}

// ---------------------------------------------------------------------------------------------

function build(file: TopologyFile, source: string, known: readonly string[]): Topology {
  const defaults = file.defaults ?? {};
  const names = Object.keys(file.targets);
  // A target being extracted is no owner: beside one owner, the owner keeps the shared database.
  const owners = names.filter((name) => !file.targets[name].extractedFrom);
  const single = owners.length === 1;
  const targets: DeployTarget[] = names.map((name) => {
    const target = file.targets[name];
    const grpc = target.grpc
      ? {
          host: target.grpc.host ?? defaults.grpc?.host ?? LOCAL_HOST, // the checks guarantee one of the two
          port: target.grpc.port,
          listenPort: target.grpc.listenPort ?? target.grpc.port,
          deadlineMs: target.grpc.deadlineMs ?? defaults.grpc?.deadlineMs ?? DEFAULT_DEADLINE_MS,
        }
      : undefined;
    const http = { host: target.http.host ?? grpc?.host ?? LOCAL_HOST, port: target.http.port };
    return {
      name,
      edge: target.edge ?? false,
      modules: target.modules ?? [],
      grpc,
      http,
      operations: target.edge ? { host: http.host, port: operationsPortOf(target.http) } : http,
      // While extracted, a target works on its owner's data: one copy of each table, two servers of it.
      database: databaseOf(name, target.extractedFrom && !target.database ? file.targets[target.extractedFrom] ?? target : target, single, target.extractedFrom),
      canary:
        target.canary && grpc
          ? {
              grpc: { ...grpc, host: target.canary.grpc.host ?? grpc.host, port: target.canary.grpc.port, listenPort: target.canary.grpc.port },
              http: { host: target.http.host ?? target.canary.grpc.host ?? grpc.host, port: target.canary.http.port },
              percent: target.canary.percent,
              sticky: target.canary.sticky ?? 'none',
            }
          : undefined,
      legacy: target.legacy ? { url: target.legacy.url, routes: target.legacy.routes ?? [] } : undefined,
      extractedFrom: target.extractedFrom,
    };
  });
  const partitions = Object.fromEntries(
    known.map((module) => [module, file.contexts?.[module]?.kafka?.partitions ?? defaults.kafka?.partitions ?? DEFAULT_PARTITIONS]),
  );
  const resilience = {
    defaults: defaults.resilience ?? {},
    targets: Object.fromEntries(names.map((name) => [name, file.targets[name].resilience ?? {}])),
    methods: Object.fromEntries(
      Object.entries(file.contexts ?? {}).flatMap(([context, settings]) =>
        Object.entries(settings.resilience?.methods ?? {}).map(([method, policy]) => [`${context}.${method}`, policy]),
      ),
    ),
  };
  const callers = Object.fromEntries(
    Object.entries(file.contexts ?? {}).flatMap(([context, settings]) => (settings.callers ? [[context, settings.callers]] : [])),
  );
  const discoveryMode = defaults.discovery?.mode ?? 'static';
  const discovery = {
    heartbeatMs: defaults.discovery?.heartbeatMs ?? DEFAULT_DISCOVERY.heartbeatMs,
    ttlMs: defaults.discovery?.ttlMs ?? DEFAULT_DISCOVERY.ttlMs,
    registryTargets: names.filter((name) => file.targets[name].grpc && (file.targets[name].grpc?.discovery ?? discoveryMode) === 'registry'),
  };
  return new Topology(file.name, source, targets, { brokers: defaults.kafka?.brokers ?? [], partitions }, resilience, callers, discovery);
}

/** Where the edge serves /health, /ready and /metrics: its `operationsPort`, or its public port + 1000. */
function operationsPortOf(http: { port: number; operationsPort?: number }): number {
  return http.operationsPort ?? http.port + DEFAULT_OPERATIONS_PORT_OFFSET;
}

function databaseOf(target: string, file: TargetFile, single: boolean, extractedFrom?: string): TargetDatabase {
  if (file.database?.url) {
    return { kind: 'url', url: file.database.url };
  }
  if (file.database?.name) {
    return { kind: 'name', name: file.database.name };
  }
  if (file.database?.shared) {
    return { kind: 'shared' };
  }
  if ((file.modules ?? []).length === 0) {
    return { kind: 'none' };
  }
  // One process shares one database (a schema per module); split processes get one each.
  const owner = extractedFrom ?? target;
  return single ? { kind: 'shared' } : { kind: 'name', name: `ficus_${owner.replace(/-/g, '_')}` };
}

function sorted(issues: readonly TopologyIssue[]): TopologyIssue[] {
  return [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function startsWith(path: readonly PropertyKey[], prefix: ValuePath): boolean {
  return prefix.length <= path.length && prefix.every((segment, index) => String(path[index]) === String(segment));
}

function asMap(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
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
