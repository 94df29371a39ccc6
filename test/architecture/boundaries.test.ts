import { join, resolve } from 'node:path';
import {
  cruiseBoundaries,
  packageRelative,
  type CruiseReport,
  type CruiseViolation,
} from '@infra/module-graph/boundary-cruise';
import { checkModuleSources } from '@infra/module-graph/source-checks';
import { contextsOf, readSourceTree } from '@infra/module-graph/source-tree';

/**
 * The boundaries of DESIGN "The one rule", checked on the real tree, and each rule proven to fire
 * on a planted violation (a rule that never fires passes forever). The cruise and the source
 * checks live in infra/module-graph, shared with `ficus verify`.
 */

const repositoryRoot = resolve(__dirname, '../..');
const fixtureRoot = join(repositoryRoot, 'test/fixtures/boundary-violations');

function describeViolations(violations: readonly CruiseViolation[]): string {
  return violations
    .map(({ rule, from, to, cycle, comment }) => {
      const edge = cycle ? [from, ...cycle].join(' → ') : `${from} → ${to}`;
      return `  ${rule}: ${edge}\n    fix: ${comment}`;
    })
    .join('\n');
}

/** A package's resolved path differs by install layout; compare from its node_modules/ on. */
function edgeOf({ rule, from, to }: CruiseViolation): string {
  return `${rule}: ${from} → ${packageRelative(to)}`;
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
        `${violations.length} boundary violation(s) (see .dependency-cruiser.cjs):\n` + describeViolations(violations),
      );
    }
  });

  describe('fires on each planted violation, and only on those', () => {
    const planted = [
      'module-imports-other-module: modules/alpha/src/application/x.ts → modules/beta/src/internal.ts',
      'module-imports-other-module: modules/alpha/src/application/x.ts → modules/beta/src/index.ts',
      'module-imports-app: modules/alpha/src/application/uses-app.ts → apps/web/src/main.ts',
      'module-reaches-deployment: modules/alpha/src/application/wired.ts → infra/topology/topology.ts',
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

  describe("ficus's own source checks (what module code does, not what it imports)", () => {
    it('hold on the real modules', () => {
      const files = readSourceTree(repositoryRoot, ['modules']);

      expect(files.length).toBeGreaterThan(50);
      expect(checkModuleSources(files, contextsOf(files))).toEqual([]);
    });

    it('fire on each planted violation, and only on those', () => {
      const files = readSourceTree(fixtureRoot, ['modules']);
      const found = checkModuleSources(files, contextsOf(files)).map(
        ({ rule, file, line }) => `${rule}: ${file}:${line}`,
      );

      expect(found).toEqual([
        'module-uses-other-context-role: modules/alpha/src/alpha.module.ts:4',
        'event-published-outside-outbox: modules/alpha/src/application/publish-directly.ts:2',
        'event-published-outside-outbox: modules/alpha/src/application/publish-directly.ts:7',
        'sql-touches-other-schema: modules/alpha/src/persistence/beta-items.repository.ts:4',
        'entity-in-other-schema: modules/alpha/src/persistence/beta-items.repository.ts:12',
      ]);
    });
  });
});
