import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { buildSchema, findBreakingChanges } from 'graphql';
import type { Contract, EventDefinition, SubgraphSdl } from '@contracts/kernel';
import { printSupergraphApi } from '@infra/graphql';
import { breakingChanges, snapshotOf, type SchemaSnapshot } from './schema-compatibility';

/**
 * The compatibility check behind `npm run contracts:check` (apps/cli/src/contracts-check.ts;
 * `npm test` runs it too, in test/contracts/compatibility.test.ts): every message schema (zod, as
 * JSON Schema), every `.proto` and the GraphQL supergraph against the last released versions kept
 * in `contracts/released/`. Generic over the contracts and events it is given.
 */
const ROOT = resolve(__dirname, '../..');
export const RELEASED_DIR = join(ROOT, 'contracts', 'released');
const SCHEMAS = join(RELEASED_DIR, 'schemas.json');
const PROTO_DIR = join(RELEASED_DIR, 'proto');
/** The supergraph's API schema as released: what GraphQL clients were promised. */
const GRAPHQL_SCHEMA = join(RELEASED_DIR, 'graphql', 'supergraph.graphql');

function protoFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory())
      return ['generated', 'released'].includes(name) && dir === join(ROOT, 'contracts') ? [] : protoFiles(path);
    return name.endsWith('.proto') ? [path] : [];
  });
}

export function release(
  contracts: readonly Contract[],
  events: readonly EventDefinition[],
  subgraphs: readonly SubgraphSdl[],
): void {
  mkdirSync(dirname(GRAPHQL_SCHEMA), { recursive: true });
  writeFileSync(GRAPHQL_SCHEMA, printSupergraphApi(subgraphs));
  rmSync(PROTO_DIR, { recursive: true, force: true });
  for (const file of protoFiles(join(ROOT, 'contracts'))) {
    const target = join(PROTO_DIR, relative(join(ROOT, 'contracts'), file));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(file, target);
  }
  writeFileSync(SCHEMAS, `${JSON.stringify(snapshotOf(contracts, events), null, 2)}\n`);
}

/** Breaking changes of the .proto files against the released ones (buf, WIRE_JSON rules). */
export function protoBreakingChanges(against = PROTO_DIR, current = 'contracts'): string[] {
  // buf refuses an --against input inside its own workspace: compare with a copy outside it.
  const outside = mkdtempSync(join(tmpdir(), 'ficus-released-proto-'));
  cpSync(against, outside, { recursive: true });
  const buf = spawnSync(
    join(ROOT, 'node_modules', '.bin', 'buf'),
    ['breaking', current, '--against', outside, '--error-format', 'text'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  rmSync(outside, { recursive: true, force: true });
  if (buf.error) throw buf.error;
  if (buf.status === 0) return [];
  const lines = `${buf.stdout}${buf.stderr}`.split('\n').filter((line) => line.trim().length > 0);
  if (lines.length === 0) throw new Error(`buf breaking failed with exit ${buf.status} and no output`);
  return lines.map((line) => `proto ${line.trim()}`);
}

/**
 * Breaking changes of the supergraph's API schema (the subgraphs composed, as clients see it)
 * against the released one, by graphql-js's own rules: a field or type removed, an argument
 * added as required, a type changed, an enum value removed. Additions pass.
 */
export function graphqlBreakingChanges(
  subgraphs: readonly SubgraphSdl[],
  releasedSdl = releasedGraphqlSchema(),
): string[] {
  if (releasedSdl === undefined) return ['graphql: no released supergraph schema (run contracts:check --release)'];
  const current = buildSchema(printSupergraphApi(subgraphs));
  return findBreakingChanges(buildSchema(releasedSdl), current).map(
    (change) => `graphql ${change.type}: ${change.description}`,
  );
}

function releasedGraphqlSchema(): string | undefined {
  return existsSync(GRAPHQL_SCHEMA) ? readFileSync(GRAPHQL_SCHEMA, 'utf8') : undefined;
}

export function releasedSnapshot(): SchemaSnapshot | undefined {
  return existsSync(SCHEMAS) ? (JSON.parse(readFileSync(SCHEMAS, 'utf8')) as SchemaSnapshot) : undefined;
}

/**
 * Every breaking change of the given contracts and events, of the .proto files and of the GraphQL
 * supergraph, against the release.
 */
export function check(
  contracts: readonly Contract[],
  events: readonly EventDefinition[],
  subgraphs: readonly SubgraphSdl[],
  released: SchemaSnapshot,
): string[] {
  return [
    ...breakingChanges(released, snapshotOf(contracts, events)),
    ...protoBreakingChanges(),
    ...graphqlBreakingChanges(subgraphs),
  ];
}
