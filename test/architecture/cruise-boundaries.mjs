/**
 * Cruises a tree with the repository's boundary rules through dependency-cruiser's JS API and
 * prints the violations as JSON on stdout.
 *
 * Why a separate process: dependency-cruiser 17 is ESM-only (its package exports only an
 * `import` condition) and Jest on Node 20 can load ESM only with --experimental-vm-modules
 * (require(esm) in Jest needs Node 24.9+). A child process keeps `npx jest` flag-free.
 *
 * Usage: node cruise-boundaries.mjs '{"baseDir": "...", "tsConfig": "...", "roots": ["apps", ...]}'
 *   baseDir   folder the rule paths (`^modules/...`) are relative to
 *   tsConfig  tsconfig whose `paths` resolve the aliases (absolute or relative to baseDir)
 *   roots     folders to cruise, relative to baseDir
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const repositoryRoot = resolve(fileURLToPath(import.meta.url), '../../..');
const configFile = resolve(repositoryRoot, '.dependency-cruiser.cjs');

/** @param {{ baseDir: string, tsConfig: string, roots: string[] }} request */
async function cruiseBoundaries({ baseDir, tsConfig, roots }) {
  const tsConfigFile = resolve(baseDir, tsConfig);
  /** @type {import('dependency-cruiser').ICruiseOptions} */
  const options = await extractDepcruiseOptions(configFile);
  options.baseDir = baseDir;
  options.outputType = 'json';
  options.tsConfig = { fileName: tsConfigFile };

  const { output } = await cruise(roots, options, {}, { tsConfig: extractTSConfig(tsConfigFile) });
  /** @type {import('dependency-cruiser').ICruiseResult} */
  const result = typeof output === 'string' ? JSON.parse(output) : output;

  const comments = new Map((options.ruleSet?.forbidden ?? []).map((rule) => [rule.name, rule.comment]));
  return {
    cruised: result.summary.totalCruised,
    violations: result.summary.violations.map((violation) => ({
      rule: violation.rule.name,
      severity: violation.rule.severity,
      from: violation.from,
      to: violation.to,
      cycle: violation.cycle?.map((step) => step.name),
      comment: comments.get(violation.rule.name) ?? '',
    })),
  };
}

const request = JSON.parse(process.argv[2] ?? '{}');
process.stdout.write(`${JSON.stringify(await cruiseBoundaries(request))}\n`);
