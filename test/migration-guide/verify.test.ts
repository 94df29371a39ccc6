import { join, resolve } from 'node:path';
import { BOUNDED_CONTEXTS } from '@contracts/kernel';
import { ficus } from '../flags/flags-cli';

/** `ficus verify` (docs/migration-guide.md, step 1): clean on the repository, every planted violation named with file and line. */

const repositoryRoot = resolve(__dirname, '../..');
const fixtureRoot = join(repositoryRoot, 'test/fixtures/boundary-violations');

interface VerifyJson {
  ok: boolean;
  cruised: number;
  moduleFiles: number;
  contexts: string[];
  violations: { rule: string; file: string; line: number; problem: string; fix: string }[];
}

describe('ficus verify', () => {
  it('passes on the repository: exit 0 and a one-line summary', async () => {
    const { code, out, err } = await ficus(['verify']);

    expect({ code, err: err.includes('violation(s) in') }).toEqual({ code: 0, err: true });
    expect(out).toMatch(
      /^ok: no boundary violation in .* \(\d+ files cruised, \d+ module files checked, contexts: (.*)\)\n$/,
    );
    expect(/contexts: (.*)\)/.exec(out)?.[1]).toBe([...BOUNDED_CONTEXTS].sort().join(', '));
  });

  it('--json says ok with no violations, and prints no progress', async () => {
    const { code, out, err } = await ficus(['verify', '--json']);
    const report = JSON.parse(out) as VerifyJson;

    expect(code).toBe(0);
    expect(err).toBe('');
    expect(report).toMatchObject({ ok: true, violations: [] });
    expect(report.cruised).toBeGreaterThan(100);
    expect(report.moduleFiles).toBeGreaterThan(50);
  });

  describe('on the planted violations of test/fixtures/boundary-violations', () => {
    it('exits 1 and prints each as file:line: rule — what is wrong — the fix', async () => {
      const { code, out } = await ficus(['verify', '--root', fixtureRoot]);
      const lines = out.split('\n').filter((line) => / — /.test(line));

      expect(code).toBe(1);
      for (const line of lines) expect(line).toMatch(/^[\w./-]+\.ts:\d+: [a-z-]+ — .+ — .+$/);
      expect(lines.map((line) => line.slice(0, line.indexOf(' — ')))).toEqual(
        expect.arrayContaining([
          // dependency-cruiser's rules, at the line of the import
          'modules/alpha/src/application/x.ts:2: module-imports-other-module',
          'modules/alpha/src/application/x.ts:4: module-imports-other-module',
          'contracts/beta/index.ts:2: contract-imports-implementation',
          'infra/bus/bus.ts:2: infra-imports-business-contract',
          'modules/beta/src/lost.ts:2: import-unresolvable',
          'modules/alpha/src/application/wired.ts:2: module-reaches-deployment',
          // ficus's own checks on module code
          'modules/alpha/src/persistence/beta-items.repository.ts:4: sql-touches-other-schema',
          'modules/alpha/src/persistence/beta-items.repository.ts:12: entity-in-other-schema',
          'modules/alpha/src/alpha.module.ts:4: module-uses-other-context-role',
          'modules/alpha/src/application/publish-directly.ts:2: event-published-outside-outbox',
          'modules/alpha/src/application/publish-directly.ts:7: event-published-outside-outbox',
          // every contract method says who may call it
          'contracts/beta/beta.contract.ts:9: contract-method-without-access',
          'contracts/beta/beta.contract.ts:11: contract-method-without-access',
        ]),
      );
      expect(out).toContain(`${lines.length} boundary violation(s) in ${fixtureRoot}`);
    });

    it('gives the fix of each rule, and the same findings as JSON', async () => {
      const { code, out } = await ficus(['verify', '--root', fixtureRoot, '--json']);
      const report = JSON.parse(out) as VerifyJson;

      expect(code).toBe(1);
      expect(report.ok).toBe(false);
      expect(report.violations).toHaveLength(22);
      expect(report.violations.find((v) => v.rule === 'sql-touches-other-schema')).toEqual({
        rule: 'sql-touches-other-schema',
        file: 'modules/alpha/src/persistence/beta-items.repository.ts',
        line: 4,
        problem: 'SQL in module alpha touches beta.items, a table of schema "beta" that another context owns',
        fix: expect.stringContaining('Ask the owning context through its contract'),
      });
      expect(report.violations.find((v) => v.rule === 'module-imports-other-module')?.fix).toMatch(
        /^Modules talk only through contracts/,
      );
      for (const violation of report.violations) {
        expect(violation.fix.length).toBeGreaterThan(20);
        expect(violation.line).toBeGreaterThan(0);
      }
    });
  });
});
