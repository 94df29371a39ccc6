import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * The boundaries of DESIGN "The one rule", checked on the real tree, and each rule proven to fire
 * on a planted violation (a rule that never fires passes forever).
 */

interface Violation {
  rule: string;
  severity: string;
  from: string;
  to: string;
  cycle?: string[];
  comment: string;
}

interface CruiseReport {
  cruised: number;
  violations: Violation[];
}

const repositoryRoot = resolve(__dirname, '../..');
const fixtureRoot = join(repositoryRoot, 'test/fixtures/boundary-violations');
const runner = join(__dirname, 'cruise-boundaries.mjs');
const layers = ['apps', 'modules', 'contracts', 'infra'];

/** dependency-cruiser is ESM-only; see cruise-boundaries.mjs for why it runs in a child process. */
async function cruiseBoundaries(baseDir: string): Promise<CruiseReport> {
  const roots = layers.filter((layer) => existsSync(join(baseDir, layer)));
  const request = JSON.stringify({ baseDir, tsConfig: 'tsconfig.json', roots });
  const { stdout } = await promisify(execFile)(process.execPath, [runner, request], {
    cwd: repositoryRoot,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as CruiseReport;
}

function describeViolations(violations: Violation[]): string {
  return violations
    .map(({ rule, from, to, cycle, comment }) => {
      const edge = cycle ? [from, ...cycle].join(' → ') : `${from} → ${to}`;
      return `  ${rule}: ${edge}\n    fix: ${comment}`;
    })
    .join('\n');
}

/** A package's resolved path differs by install layout; compare from its node_modules/ on. */
function edgeOf({ rule, from, to }: Violation): string {
  return `${rule}: ${from} → ${to.replace(/^.*?node_modules\//, 'node_modules/')}`;
}

describe('module boundaries', () => {
  let realTree: Promise<CruiseReport>;
  let fixtures: Promise<CruiseReport>;

  beforeAll(() => {
    // Both cruises run in parallel; each test awaits the one it needs.
    realTree = cruiseBoundaries(repositoryRoot);
    fixtures = cruiseBoundaries(fixtureRoot);
    // Keep an early rejection from being reported as unhandled before a test awaits it.
    realTree.catch(() => undefined);
    fixtures.catch(() => undefined);
  });

  it('holds on the real tree (apps, modules, contracts, infra)', async () => {
    const { cruised, violations } = await realTree;

    expect(cruised).toBeGreaterThan(0);
    if (violations.length > 0) {
      throw new Error(
        `${violations.length} boundary violation(s) (see .dependency-cruiser.cjs):\n` +
          describeViolations(violations),
      );
    }
  });

  describe('fires on each planted violation, and only on those', () => {
    const planted = [
      'module-imports-other-module: modules/alpha/src/application/x.ts → modules/beta/src/internal.ts',
      'module-imports-other-module: modules/alpha/src/application/x.ts → modules/beta/src/index.ts',
      'module-imports-app: modules/alpha/src/application/uses-app.ts → apps/web/src/main.ts',
      'contract-imports-implementation: contracts/beta/index.ts → modules/beta/src/internal.ts',
      'contract-imports-package-other-than-zod: contracts/beta/index.ts → node_modules/@nestjs/common/index.js',
      'infra-imports-module-or-app: infra/bus/bus.ts → modules/beta/src/index.ts',
      'infra-imports-business-contract: infra/bus/bus.ts → contracts/beta/index.ts',
      'app-imports-module-internals: apps/web/src/main.ts → modules/alpha/src/application/x.ts',
      'domain-imports-framework-or-infra: modules/alpha/src/domain/order.ts → node_modules/typeorm/index.d.ts',
      'domain-imports-framework-or-infra: modules/alpha/src/domain/order.ts → node_modules/@nestjs/common/index.js',
      'domain-imports-framework-or-infra: modules/alpha/src/domain/order.ts → infra/bus/bus.ts',
      'domain-imports-outer-layer: modules/alpha/src/domain/order.ts → modules/alpha/src/persistence/order.entity.ts',
      'no-circular-in-module: modules/beta/src/ping.ts → modules/beta/src/pong.ts',
      'import-unresolvable: modules/beta/src/lost.ts → ./does-not-exist',
    ];

    it.each(planted)('%s', async (expected) => {
      const { violations } = await fixtures;

      expect(violations.map(edgeOf)).toContain(expected);
    });

    it('reports nothing else: the allowed edges of the fixture stay allowed', async () => {
      const { violations } = await fixtures;

      expect(violations.map(edgeOf).sort()).toEqual([...planted].sort());
      expect(violations.every(({ severity }) => severity === 'error')).toBe(true);
    });
  });
});
