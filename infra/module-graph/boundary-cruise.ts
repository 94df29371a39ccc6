import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BoundaryViolation } from './source-checks';

/** A violation of a rule of .dependency-cruiser.cjs, as dependency-cruiser reports it. */
export interface CruiseViolation {
  readonly rule: string;
  readonly severity: string;
  /** The importing file, relative to the cruised root. */
  readonly from: string;
  /** The imported file (or package file, or the specifier when it did not resolve). */
  readonly to: string;
  /** What the source wrote (`@modules/beta`, `../../x`). */
  readonly specifier: string;
  readonly cycle?: readonly string[];
  /** A reachable rule's path from `from` to `to`, hop by hop. */
  readonly via?: readonly string[];
  /** The rule's comment: what is wrong, then how to fix it. */
  readonly comment: string;
}

export interface CruiseReport {
  readonly cruised: number;
  readonly violations: readonly CruiseViolation[];
}

/** The layers of a ficus tree that the rules speak about. */
export const BOUNDARY_LAYERS = ['apps', 'modules', 'contracts', 'infra'] as const;

const RUNNER = join(__dirname, 'cruise-boundaries.mjs');

/**
 * Runs dependency-cruiser with the boundary rules on `root` (ESM-only, so in a child process:
 * see cruise-boundaries.mjs). The rules are `<root>/.dependency-cruiser.cjs` when the tree has
 * its own, else this repository's; aliases come from `<root>/tsconfig.json`.
 */
export async function cruiseBoundaries(root: string): Promise<CruiseReport> {
  const roots = BOUNDARY_LAYERS.filter((layer) => existsSync(join(root, layer)));
  const ownConfig = join(root, '.dependency-cruiser.cjs');
  const request = JSON.stringify({
    baseDir: root,
    tsConfig: 'tsconfig.json',
    roots,
    config: existsSync(ownConfig) ? ownConfig : undefined,
  });
  const { stdout } = await promisify(execFile)(process.execPath, [RUNNER, request], {
    cwd: join(__dirname, '..', '..'),
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as CruiseReport;
}

/**
 * A cruise violation as ficus verify prints it: the line of the import (found by its specifier
 * in the importing file), the comment's first sentence as the problem and the rest as the fix.
 */
export function toBoundaryViolation(root: string, violation: CruiseViolation): BoundaryViolation {
  const path = violation.cycle?.length
    ? violation.cycle
    : violation.via?.length
      ? violation.via
      : [packageRelative(violation.to)];
  const edge = [violation.from, ...path].join(' → ');
  const [what, ...rest] = violation.comment.split(/(?<=\.) /);
  return {
    rule: violation.rule,
    file: violation.from,
    line: importLine(join(root, violation.from), violation.specifier),
    problem: `${what.replace(/\.$/, '')}: ${edge}`,
    fix: rest.join(' ') || what,
  };
}

/** The line that imports `specifier` (1 when it cannot be found: the file is still named). */
export function importLine(file: string, specifier: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 1;
  }
  const lines = text.split('\n');
  const quoted = [`'${specifier}'`, `"${specifier}"`, `\`${specifier}\``];
  const index = lines.findIndex((line) => quoted.some((quote) => line.includes(quote)));
  return index < 0 ? 1 : index + 1;
}

/** A package's resolved path differs by install layout; print it from its node_modules/ on. */
export function packageRelative(path: string): string {
  return path.replace(/^.*?node_modules\//, 'node_modules/');
}
