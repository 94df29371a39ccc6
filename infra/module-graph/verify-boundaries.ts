import { cruiseBoundaries, toBoundaryViolation } from './boundary-cruise';
import { checkContractAccess } from './contract-access-checks';
import { checkModuleSources, type BoundaryViolation } from './source-checks';
import { contextsOf, readSourceTree } from './source-tree';

export interface VerifyReport {
  readonly root: string;
  /** Files dependency-cruiser looked at. */
  readonly cruised: number;
  /** Module files ficus's own checks read. */
  readonly moduleFiles: number;
  readonly contexts: readonly string[];
  readonly violations: readonly BoundaryViolation[];
}

export interface VerifyProgress {
  step(title: string): void;
}

/**
 * Every boundary check of ficus on a tree: the import rules of .dependency-cruiser.cjs, then the
 * checks on what module code does (SQL on other schemas, entities in other schemas, roles,
 * events that skip the outbox), then that every contract method says who may call it. Sorted by
 * file and line.
 */
export async function verifyBoundaries(
  root: string,
  progress: VerifyProgress = { step: () => undefined },
): Promise<VerifyReport> {
  progress.step('imports: dependency-cruiser with .dependency-cruiser.cjs on apps, modules, contracts, infra');
  const cruise = await cruiseBoundaries(root);
  progress.step('modules: SQL and entity schemas, roles, events outside the outbox');
  const files = readSourceTree(root, ['modules']);
  const contexts = contextsOf(files);
  progress.step('contracts: every method declares who may call it');
  const violations = [
    ...cruise.violations.map((violation) => toBoundaryViolation(root, violation)),
    ...checkModuleSources(files, contexts),
    ...checkContractAccess(readSourceTree(root, ['contracts'])),
  ];
  violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule));
  return { root, cruised: cruise.cruised, moduleFiles: files.length, contexts, violations };
}

/** `file:line: rule — what is wrong — the fix` */
export function formatViolation(violation: BoundaryViolation): string {
  return `${violation.file}:${violation.line}: ${violation.rule} — ${violation.problem} — ${violation.fix}`;
}
