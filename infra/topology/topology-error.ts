/** One thing wrong with a topology file, at the place a user has to edit. */
export interface TopologyIssue {
  readonly file: string;
  /** 1-based; absent when the problem is the file as a whole (unreadable, for instance). */
  readonly line?: number;
  readonly column?: number;
  /** What is wrong and what to do about it, in one sentence. */
  readonly message: string;
}

export function formatIssue(issue: TopologyIssue): string {
  if (issue.line === undefined) {
    return `${issue.file}: ${issue.message}`;
  }
  return `${issue.file}:${issue.line}:${issue.column ?? 1}: ${issue.message}`;
}

/**
 * Every problem found in a topology file, reported together (fixing them one start-up at a time
 * is slow), one per line in the `file:line:column: message` form that editors and terminals link.
 */
export class TopologyError extends Error {
  override readonly name = 'TopologyError';

  constructor(readonly issues: readonly TopologyIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}
