import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { Environment } from './env-interpolation';
import { KNOWN_MODULES } from './known-modules';
import { DEFAULT_DISCOVERY, type DeployTarget, type TargetDatabase, Topology } from './topology';
import { TopologyDocument, type ValuePath } from './topology-document';
import { TopologyError, type TopologyIssue } from './topology-error';
import { checkAcrossFields, didYouMean, LOCAL_HOST, operationsPortOf } from './topology-rules';
import { allowedKeysAt, type TargetFile, type TopologyFile, TopologyFileSchema } from './topology-schema';

export { DEFAULT_OPERATIONS_PORT_OFFSET, operationsPortOf } from './topology-rules';

export interface TopologyOptions {
  /** Where `${VAR}` references are read; `process.env` unless given. */
  readonly env?: Environment;
  /** The modules the topology must place, each exactly once; ficus's seven unless given. */
  readonly modules?: readonly string[];
}

export const DEFAULT_DEADLINE_MS = 5000;
export const DEFAULT_PARTITIONS = 6;
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
    throw new TopologyError([
      document.issueAt(
        [],
        'the file is empty — a topology needs "name:" and "targets:" (see infra/topology/README.md)',
      ),
    ]);
  }

  const { value, issues: envIssues, failedPaths } = document.toValue(env);
  const parsed = TopologyFileSchema.safeParse(value, { reportInput: true });
  const schemaIssues = parsed.success
    ? []
    : parsed.error.issues
        .filter((issue) => !failedPaths.some((failed) => startsWith(issue.path, failed)))
        .flatMap((issue) => describeSchemaIssue(document, issue));
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
        const { fix } = didYouMean(key, allowed, `remove it (allowed here: ${allowed.join(', ')})`);
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
      return [
        document.issueAt(
          path,
          `${where} must be ${describeExpected(issue.expected)}, not ${describeInput(issue.input)}`,
        ),
      ];
    }
    case 'too_small':
      if (issue.origin === 'array') {
        return [document.issueAt(path, `${where} must list at least ${issue.minimum}`)];
      }
      if (issue.origin === 'string') {
        return [document.issueAt(path, `${where} must not be empty`)];
      }
      return [
        document.issueAt(
          path,
          `${where} must be ${rangeOf(path, `at least ${issue.minimum}`)}, not ${describeInput(issue.input)}`,
        ),
      ];
    case 'too_big':
      if (issue.origin === 'string') {
        return [document.issueAt(path, `${where} must be at most ${issue.maximum} characters long`)];
      }
      return [
        document.issueAt(
          path,
          `${where} must be ${rangeOf(path, `at most ${issue.maximum}`)}, not ${describeInput(issue.input)}`,
        ),
      ];
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
      return (
        'add "http: { port: <number> }" (the public API on the edge, with /health, /ready, /metrics on ' +
        'its operations port; /health, /ready, /metrics elsewhere)'
      );
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
      operations: target.edge
        ? { host: target.http.operationsHost ?? http.host, port: operationsPortOf(target.http) }
        : http,
      // While extracted, a target works on its owner's data: one copy of each table, two servers of it.
      database: databaseOf(
        name,
        target.extractedFrom && !target.database ? (file.targets[target.extractedFrom] ?? target) : target,
        single,
        target.extractedFrom,
      ),
      canary:
        target.canary && grpc
          ? {
              grpc: {
                ...grpc,
                host: target.canary.grpc.host ?? grpc.host,
                port: target.canary.grpc.port,
                listenPort: target.canary.grpc.port,
              },
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
    known.map((module) => [
      module,
      file.contexts?.[module]?.kafka?.partitions ?? defaults.kafka?.partitions ?? DEFAULT_PARTITIONS,
    ]),
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
    Object.entries(file.contexts ?? {}).flatMap(([context, settings]) =>
      settings.callers ? [[context, settings.callers]] : [],
    ),
  );
  const discoveryMode = defaults.discovery?.mode ?? 'static';
  const discovery = {
    heartbeatMs: defaults.discovery?.heartbeatMs ?? DEFAULT_DISCOVERY.heartbeatMs,
    ttlMs: defaults.discovery?.ttlMs ?? DEFAULT_DISCOVERY.ttlMs,
    registryTargets: names.filter(
      (name) => file.targets[name].grpc && (file.targets[name].grpc?.discovery ?? discoveryMode) === 'registry',
    ),
  };
  return new Topology(
    file.name,
    source,
    targets,
    { brokers: defaults.kafka?.brokers ?? [], partitions },
    resilience,
    callers,
    discovery,
  );
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
