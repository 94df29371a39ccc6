/**
 * Cruises a tree with the repository's boundary rules (.dependency-cruiser.cjs) through
 * dependency-cruiser's JS API and prints the violations as JSON on stdout. Used by `ficus verify`
 * and by test/architecture/boundaries.test.ts, both through boundary-cruise.ts.
 *
 * Why a separate process: dependency-cruiser 17 is ESM-only (its package exports only an
 * `import` condition) and Jest on Node 20 can load ESM only with --experimental-vm-modules
 * (require(esm) in Jest needs Node 24.9+). A child process keeps `npx jest` flag-free and the
 * CLI CommonJS.
 *
 * Usage: node cruise-boundaries.mjs '{"baseDir": "...", "tsConfig": "...", "roots": ["apps", ...], "config": "..."}'
 *   baseDir   folder the rule paths (`^modules/...`) are relative to
 *   tsConfig  tsconfig whose `paths` resolve the aliases (absolute or relative to baseDir)
 *   roots     folders to cruise, relative to baseDir
 *   config    the dependency-cruiser configuration (default: this repository's)
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const repositoryRoot = resolve(fileURLToPath(import.meta.url), '../../..');

/** @param {{ baseDir: string, tsConfig: string, roots: string[], config?: string }} request */
async function cruiseBoundaries({ baseDir, tsConfig, roots, config }) {
  const tsConfigFile = resolve(baseDir, tsConfig);
  /** @type {import('dependency-cruiser').ICruiseOptions} */
  const options = await extractDepcruiseOptions(config ?? resolve(repositoryRoot, '.dependency-cruiser.cjs'));
  options.baseDir = baseDir;
  options.outputType = 'json';
  options.tsConfig = { fileName: tsConfigFile };

  const { output } = await cruise(roots, options, {}, { tsConfig: extractTSConfig(tsConfigFile) });
  /** @type {import('dependency-cruiser').ICruiseResult} */
  const result = typeof output === 'string' ? JSON.parse(output) : output;

  // What the source wrote for each edge (`@contracts/beta`, `../x`): the line is found by it.
  const specifiers = new Map();
  for (const module of result.modules) {
    for (const dependency of module.dependencies) {
      specifiers.set(`${module.source}\u0000${dependency.resolved}`, dependency.module);
    }
  }
  const comments = new Map((options.ruleSet?.forbidden ?? []).map((rule) => [rule.name, rule.comment]));
  return {
    cruised: result.summary.totalCruised,
    violations: result.summary.violations.map((violation) => ({
      rule: violation.rule.name,
      severity: violation.rule.severity,
      from: violation.from,
      to: violation.to,
      // A reachable rule's path starts with the file's own import of the first hop: its line is that import's.
      specifier: specifiers.get(`${violation.from}\u0000${violation.via?.[0]?.name ?? violation.to}`) ?? violation.to,
      cycle: violation.cycle?.map((step) => step.name),
      via: violation.via?.map((step) => step.name),
      comment: comments.get(violation.rule.name) ?? '',
    })),
  };
}

const request = JSON.parse(process.argv[2] ?? '{}');
process.stdout.write(`${JSON.stringify(await cruiseBoundaries(request))}\n`);
