import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { boundedContextsOf } from '../../apps/cli/src/new-context/new-context';
import { loadTopology } from '@infra/topology';

/**
 * `ficus new context <name>` (issue 16, item 3), run as a team would on a copy of this
 * repository: the new context type-checks, passes `ficus verify`, is formatted, and is placed in
 * every shipped topology, in split on a target of its own. The whole `npm test` on such a tree is
 * too long to run here; test/architecture/context-lists.test.ts keeps the suite free of fixtures
 * that would miss the new context (ADR 0042).
 */

const repositoryRoot = resolve(__dirname, '../..');
const run = promisify(execFile);

async function ficus(root: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'apps/cli/bin/ficus.cjs'), ...args], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, out: failed.stdout ?? '', err: failed.stderr ?? '' };
  }
}

/** The repository's files as a fresh checkout has them (ignored ones aside), node_modules shared. */
async function copyOfRepository(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'ficus-new-context-'));
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repositoryRoot,
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const path of stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(repositoryRoot, path))) continue; // deleted, not yet committed
    mkdirSync(dirname(join(root, path)), { recursive: true });
    cpSync(join(repositoryRoot, path), join(root, path));
  }
  symlinkSync(join(repositoryRoot, 'node_modules'), join(root, 'node_modules'));
  return root;
}

/** A name no context of this repository has yet (the suite passes after the command ran too). */
const existing = boundedContextsOf(repositoryRoot);
const name = ['reviews', 'ratings', 'wishlists', 'loyalty'].find((candidate) => !existing.includes(candidate))!;
const pascal = name[0].toUpperCase() + name.slice(1);
const shippedSplit = loadTopology(join(repositoryRoot, 'infra/topology/split.yaml'), { env: {}, modules: existing });
const nextGrpcPort = Math.max(...shippedSplit.targets.map((target) => target.grpc?.port ?? 0)) + 1;
const nextHttpPort =
  Math.max(...shippedSplit.targets.filter((target) => target.modules.length === 1).map((target) => target.http.port)) +
  1;

describe('ficus new context', () => {
  let root: string;
  let created: { code: number; out: string; err: string };

  beforeAll(async () => {
    root = await copyOfRepository();
    created = await ficus(root, ['new', 'context', name]);
  }, 120_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes the context and lists it where contexts are listed', () => {
    expect(created).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^${name}: \\d+ files written`)) });
    expect(boundedContextsOf(root)).toEqual([...existing, name]);
    const firstMigration = 1_764_000_000_000 + (existing.length + 1) * 100;
    for (const file of [
      `contracts/${name}/${name}.contract.ts`,
      `contracts/${name}/${name}.proto`,
      `contracts/generated/${name}/${name}.ts`,
      `modules/${name}/src/${name}.module.ts`,
      `modules/${name}/src/persistence/migrations/${firstMigration}-create-items.ts`,
      `test/integration/${name}.module.test.ts`,
      `infra/deploy/kubernetes/${name}.yaml`,
    ]) {
      expect({ file, exists: existsSync(join(root, file)) }).toEqual({ file, exists: true });
    }
    expect(readFileSync(join(root, 'contracts/contexts.ts'), 'utf8')).toContain(
      `${name}: contractsOf('${name}', ${pascal}Contract, ${name}),`,
    );
    expect(readFileSync(join(root, 'apps/service/src/module-catalogue.ts'), 'utf8')).toContain(
      `${name}: ${pascal}Module,`,
    );
    expect(readFileSync(join(root, 'docker-compose.yml'), 'utf8')).toMatch(new RegExp(`^ {2}${name}:$`, 'm'));
  });

  it('places it in every shipped topology: in the monolith, in hybrid’s core, a target of its own in split', () => {
    const modules = boundedContextsOf(root);
    const load = (name: string) => loadTopology(join(root, `infra/topology/${name}.yaml`), { env: {}, modules });
    expect(load('monolith').targetOf(name).name).toBe('monolith');
    expect(load('hybrid').targetOf(name).name).toBe('core');
    const split = load('split');
    expect(split.target(name)).toMatchObject({
      modules: [name],
      grpc: { port: nextGrpcPort },
      http: { port: nextHttpPort },
      database: { kind: 'name', name: `ficus_${name}` },
    });
    expect(split.mayCall('gateway', name)).toBe(true); // the edge may call it
    expect(load('compose').target(name).grpc).toMatchObject({ host: name, port: nextGrpcPort });
  });

  it('type-checks, passes ficus verify, and is formatted as the house style says', async () => {
    const typecheck = await run(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit'],
      {
        cwd: root,
      },
    ).then(
      () => 0,
      (error: { stdout?: string }) => error.stdout ?? 'tsc failed',
    );
    expect(typecheck).toBe(0);
    const verify = await ficus(root, ['verify', '--json']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.out)).toMatchObject({ ok: true, contexts: expect.arrayContaining([name]) });
    const format = await run(
      join(root, 'node_modules/.bin/prettier'),
      ['--check', `modules/${name}`, `contracts/${name}`],
      {
        cwd: root,
      },
    ).then(
      () => 0,
      (error: { stdout?: string }) => error.stdout ?? 'prettier failed',
    );
    expect(format).toBe(0);
  }, 180_000);

  it('refuses a name taken, reserved or malformed, and writes nothing then', async () => {
    const refusals: Array<[string, RegExp]> = [
      [name, new RegExp(`${name} is a bounded context already`)],
      ['catalog', /catalog is a bounded context already/],
      ['edge', /reserved/],
      ['Reviews2', /no context name/],
      ['x', /no context name/],
      // `import * as for from './for'` is no JavaScript: the deploy generator and prettier would fail.
      ['for', /JavaScript word/],
      ['null', /JavaScript word/],
      ['arguments', /JavaScript word/],
      ['contexts', /is taken/], // contracts/contexts.ts, which lists the contexts
      ['google', /is taken/], // contracts/generated/google: protobuf's own types
      ['wishlist', /test\/integration\/wishlist\.module\.test\.ts exists already/],
    ];
    // A file of a team's own where the context's module test would go: never overwritten.
    writeFileSync(join(root, 'test/integration/wishlist.module.test.ts'), '// a team test\n');
    for (const [refused, problem] of refusals) {
      const answer = await ficus(root, ['new', 'context', refused]);
      expect({ refused, code: answer.code, err: answer.err }).toEqual({
        refused,
        code: 1,
        err: expect.stringMatching(problem),
      });
    }
    expect(existsSync(join(root, 'modules/Reviews2'))).toBe(false);
    expect(existsSync(join(root, 'modules/wishlist'))).toBe(false);
    expect(readFileSync(join(root, 'test/integration/wishlist.module.test.ts'), 'utf8')).toBe('// a team test\n');
    expect(boundedContextsOf(root)).toEqual([...existing, name]);
  }, 60_000);
});
