import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseTopology } from '@infra/topology';
import { contextFiles, contextNames, type ContextNames } from './context-templates';

/** What `ficus new context` wrote and changed, relative to the repository root. */
export interface NewContextReport {
  readonly context: string;
  readonly written: readonly string[];
  readonly edited: readonly string[];
  /** Its own target in split.yaml. */
  readonly split: { readonly target: string; readonly grpcPort: number; readonly httpPort: number };
  readonly migrations: { readonly first: number; readonly last: number };
}

/** Names a context cannot take: the callers' names, the topologies' targets, contracts' folders. */
const RESERVED = new Set([
  'edge',
  'operator',
  'gateway',
  'monolith',
  'core',
  'kernel',
  'generated',
  'released',
  'registry',
]);
/**
 * Words a JavaScript module cannot bind (`import * as for from './for'`): the reserved words, the
 * strict mode's, the literals, and `arguments`, `eval` and `undefined`.
 */
const JAVASCRIPT_WORDS = new Set([
  ...['await', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do'],
  ...['else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in'],
  ...['instanceof', 'new', 'null', 'return', 'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof'],
  ...['var', 'void', 'while', 'with', 'yield', 'let', 'static', 'implements', 'interface', 'package'],
  ...['private', 'protected', 'public', 'arguments', 'eval', 'undefined'],
]);
const NAME = /^[a-z][a-z0-9]{1,29}$/;

/** The shared files a context is listed in, besides its own folders (relative to the root). */
const SHARED = {
  boundedContexts: 'contracts/kernel/bounded-contexts.ts',
  contracts: 'contracts/contexts.ts',
  modules: 'apps/service/src/module-catalogue.ts',
  monolith: 'infra/topology/monolith.yaml',
  hybrid: 'infra/topology/hybrid.yaml',
  split: 'infra/topology/split.yaml',
  compose: 'infra/topology/compose.yaml',
  prometheus: 'infra/observability/prometheus/prometheus.yml',
} as const;

/**
 * Writes a new bounded context into the repository at `root`: its contract, events and `.proto`
 * (codecs generated), its module (domain, application, persistence, first migration of its
 * number range) and module test; lists it in BOUNDED_CONTEXTS, CONTEXT_CONTRACTS and MODULES;
 * places it in every shipped topology (in the monolith's process, in hybrid's core, a target of
 * its own in split and compose) and in Prometheus's scrape list; regenerates the deploy files.
 * Everything else (tests' lists, ficus graph, Kafka topics, certificates) derives from those.
 */
export function newContext(
  root: string,
  name: string,
  log: (line: string) => void = () => undefined,
): NewContextReport {
  const existing = boundedContextsOf(root);
  const problem = nameProblem(name, existing, namesTakenIn(root));
  if (problem) throw new Error(problem);
  const names = contextNames(name, existing.length);
  const files = contextFiles(names);
  for (const path of [`modules/${name}`, `contracts/${name}`, ...Object.keys(files)]) {
    if (existsSync(join(root, path))) throw new Error(`${path} exists already: choose another name, or remove it`);
  }
  const contexts = [...existing, name];

  // Every edit computed and checked first: a file that cannot take the context leaves the tree untouched.
  const read = (path: string) => readFileSync(join(root, path), 'utf8');
  const split = ownTarget(read(SHARED.split), name);
  const edits: Record<string, string> = {
    [SHARED.boundedContexts]: insertBefore(read(SHARED.boundedContexts), '] as const;', `  '${name}',\n`),
    [SHARED.contracts]: listedContract(read(SHARED.contracts), names),
    [SHARED.modules]: listedModule(read(SHARED.modules), names),
    [SHARED.monolith]: withModuleIn(read(SHARED.monolith), 'monolith', name),
    [SHARED.hybrid]: withModuleIn(read(SHARED.hybrid), 'core', name),
    [SHARED.split]: split.text,
    [SHARED.compose]: ownTarget(read(SHARED.compose), name).text,
    [SHARED.prometheus]: scraped(read(SHARED.prometheus), name, split.httpPort),
  };
  for (const path of [SHARED.monolith, SHARED.hybrid, SHARED.split, SHARED.compose]) {
    parseTopology(edits[path], path, { env: {}, modules: contexts }); // a TopologyError says what is wrong
  }

  const written: string[] = [];
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
    written.push(path);
  }
  log(`wrote ${written.length} files of ${name} (contract, events, .proto, module, migration, module test)`);
  for (const [path, text] of Object.entries(edits)) writeFileSync(join(root, path), text);
  log(
    `listed ${name} in ${Object.keys(edits).length} shared files; ` +
      `its own target in split: gRPC ${split.grpcPort}, HTTP ${split.httpPort}`,
  );

  // In processes of their own: they read the context lists as the files now say them.
  const run = (command: string, args: string[]) => execFileSync(command, args, { cwd: root, stdio: 'pipe' });
  run(join(root, 'node_modules/.bin/buf'), ['generate']);
  written.push(`contracts/generated/${name}/${name}.ts`);
  run(process.execPath, ['-r', '@swc-node/register', 'apps/cli/src/deploy-generate.ts']);
  log('generated its codecs (buf) and the deploy files (npm run deploy:generate)');
  const edited = [...Object.values(SHARED), 'docker-compose.yml', 'infra/deploy/kubernetes/'];
  run(join(root, 'node_modules/.bin/prettier'), [
    '--write',
    ...written.filter((path) => path.endsWith('.ts')),
    SHARED.contracts,
    SHARED.modules,
  ]);
  return {
    context: name,
    written,
    edited,
    split: { target: name, grpcPort: split.grpcPort, httpPort: split.httpPort },
    migrations: { first: names.firstMigration, last: names.firstMigration + 99 },
  };
}

/**
 * Why `name` cannot be a new context, or undefined. `taken`: what contracts/ and its generated/
 * hold already (contexts.ts, protobuf's own google/), which a context's files would meet.
 */
export function nameProblem(
  name: string,
  existing: readonly string[],
  taken: readonly string[] = [],
): string | undefined {
  if (!NAME.test(name))
    return `"${name}" is no context name: 2 to 30 lowercase letters and digits, starting with a letter`;
  if (existing.includes(name)) return `${name} is a bounded context already`;
  if (RESERVED.has(name)) return `"${name}" is reserved (a caller, a target or a folder of contracts/)`;
  if (JAVASCRIPT_WORDS.has(name)) return `"${name}" is a JavaScript word: no module can import a context of that name`;
  if (taken.includes(name)) return `"${name}" is taken: contracts/ or contracts/generated/ holds it already`;
  if (existing.length >= 99) return 'the migration number ranges are used up (99 contexts)';
  return undefined;
}

/** The names of what contracts/ and contracts/generated/ hold, without their extensions. */
function namesTakenIn(root: string): string[] {
  return ['contracts', 'contracts/generated'].flatMap((folder) =>
    existsSync(join(root, folder)) ? readdirSync(join(root, folder)).map((entry) => entry.replace(/\.[^.]*$/, '')) : [],
  );
}

/** BOUNDED_CONTEXTS as the root's file lists them. */
export function boundedContextsOf(root: string): string[] {
  const text = readFileSync(join(root, SHARED.boundedContexts), 'utf8');
  const list = /BOUNDED_CONTEXTS = \[([^\]]*)\] as const/.exec(text)?.[1];
  if (list === undefined) throw new Error(`${SHARED.boundedContexts} has no BOUNDED_CONTEXTS = [...] as const`);
  return [...list.matchAll(/'([a-z][a-z0-9]*)'/g)].map((match) => match[1]);
}

function insertBefore(text: string, marker: string, insert: string, from = 0): string {
  const at = text.indexOf(marker, from);
  if (at < 0) throw new Error(`expected "${marker}" in the file`);
  const lineStart = text.lastIndexOf('\n', at) + 1;
  return text.slice(0, lineStart) + insert + text.slice(lineStart);
}

/**
 * The file with `added` import lines, each placed among the imports of its kind (`./x`,
 * `@modules/x`) in the order of their paths, `import * as` before named imports of one path.
 */
function withImports(text: string, added: readonly string[]): string {
  const lines = text.split('\n');
  const pathOf = (line: string) => /from '([^']+)'/.exec(line)?.[1] ?? '';
  const kindOf = (path: string) => path.slice(0, path.indexOf('/') + 1);
  const key = (line: string) => `${pathOf(line)}\u0000${line.includes('* as') ? 0 : 1}`;
  for (const line of added) {
    const ofKind = lines.flatMap((existing, index) =>
      existing.startsWith('import ') && kindOf(pathOf(existing)) === kindOf(pathOf(line)) ? [index] : [],
    );
    if (ofKind.length === 0) throw new Error(`no import of ${kindOf(pathOf(line))} to place "${line}" among`);
    const after = ofKind.find((index) => key(lines[index]) > key(line));
    lines.splice(after ?? ofKind[ofKind.length - 1] + 1, 0, line);
  }
  return lines.join('\n');
}

function listedContract(text: string, { name, pascal }: ContextNames): string {
  const withEntry = withTableEntry(
    text,
    'export const CONTEXT_CONTRACTS',
    `${name}: contractsOf('${name}', ${pascal}Contract, ${name}),`,
  );
  return withImports(withEntry, [
    `import * as ${name} from './${name}';`,
    `import { ${pascal}Contract } from './${name}';`,
  ]);
}

/** The object literal after `declaration`, with one more line before its closing brace. */
function withTableEntry(text: string, declaration: string, entry: string): string {
  const table = text.indexOf(declaration);
  const closing = text.indexOf('\n};', table);
  if (table < 0 || closing < 0) throw new Error(`expected ${declaration} = { … }; in the file`);
  return `${text.slice(0, closing)}\n  ${entry}${text.slice(closing)}`;
}

function listedModule(text: string, { name, pascal }: ContextNames): string {
  const withEntry = withTableEntry(text, 'export const MODULES', `${name}: ${pascal}Module,`);
  return withImports(withEntry, [`import { ${pascal}Module } from '@modules/${name}';`]);
}

/** The target's `modules: [a, b]` line with the context added. */
function withModuleIn(text: string, target: string, name: string): string {
  const at = new RegExp(`^ {2}${target}:\\s*$`, 'm').exec(text);
  if (!at) throw new Error(`no target "${target}" to place ${name} in`);
  const modules = /^(\s+modules: \[)([^\]]*)\]/m.exec(text.slice(at.index));
  if (!modules) throw new Error(`target "${target}" lists no modules: [...] to place ${name} in`);
  const start = at.index + modules.index;
  return `${text.slice(0, start)}${modules[1]}${modules[2]}, ${name}]${text.slice(start + modules[0].length)}`;
}

/**
 * A split-style topology with a target of the context's own: a copy of the last one-module
 * target's lines (its comments aside) on the next gRPC and HTTP ports, and the context's callers.
 */
function ownTarget(text: string, name: string): { text: string; grpcPort: number; httpPort: number } {
  const blocks = [...text.matchAll(/^ {2}([a-z][a-z0-9-]*):\n {4}modules: \[\1\]\n(?: {4}.*\n?)*/gm)];
  const last = blocks.at(-1);
  if (!last) throw new Error('no one-module target to model the new one on');
  const model = last[1];
  const portsIn = (source: string, key: 'grpc' | 'http') =>
    [...source.matchAll(new RegExp(`^ {4}${key}: \\{[^}]*\\bport: (\\d+)`, 'gm'))].map((match) => Number(match[1]));
  const grpcPort = Math.max(...portsIn(text, 'grpc')) + 1;
  const httpPort = Math.max(...blocks.flatMap((block) => portsIn(block[0], 'http'))) + 1;
  const block = last[0]
    .replace(/ # .*$/gm, '')
    .replace(new RegExp(`(?<![a-z0-9])${model}(?![a-z0-9])`, 'g'), name)
    .replace(/(grpc: \{[^}]*\bport: )\d+/, `$1${grpcPort}`)
    .replace(/(http: \{[^}]*\bport: )\d+/, `$1${httpPort}`)
    .trimEnd();
  const end = last.index + last[0].length;
  const rest = text.slice(end);
  const withTarget =
    rest.trim() === '' ? `${text.trimEnd()}\n\n${block}\n` : `${text.slice(0, end)}\n${block}\n${rest}`;
  const callers = [...withTarget.matchAll(/^ {2}[a-z][a-z0-9]*: \{ callers: \[[^\]]*\] \}\n/gm)].at(-1);
  if (!callers) return { text: withTarget, grpcPort, httpPort };
  const at = callers.index + callers[0].length;
  return {
    text: `${withTarget.slice(0, at)}  ${name}: { callers: [edge] }\n${withTarget.slice(at)}`,
    grpcPort,
    httpPort,
  };
}

/** Prometheus's scrape list with a job for the context's own process. */
function scraped(text: string, name: string, httpPort: number): string {
  const jobs = [...text.matchAll(/^ {2}- job_name: [a-z0-9-]+\n(?: {4,}.*\n?)*/gm)];
  const last = jobs.at(-1);
  if (!last) throw new Error('no scrape job to model the new one on');
  const job = last[0]
    .replace(/job_name: [a-z0-9-]+/, `job_name: ${name}`)
    .replace(/:\d+"/, `:${httpPort}"`)
    .trimEnd();
  const end = last.index + last[0].length;
  const rest = text.slice(end);
  return rest.trim() === '' ? `${text.trimEnd()}\n\n${job}\n` : `${text.slice(0, end)}\n${job}\n${rest}`;
}
