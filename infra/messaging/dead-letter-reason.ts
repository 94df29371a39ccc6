/**
 * A dead letter's reason: read by a person, stored beside the letter and sent in a Kafka header,
 * so bounded whatever the message held (a payload of 10,000 bad items has 30,000 schema issues).
 */
export const MAX_REASON = 1_000;

export function bounded(text: string, max = MAX_REASON): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** Schema issues as a reason: the first ten, and how many more. */
export function issuesOf(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  const shown = issues.slice(0, 10).map((issue) => `${issue.path.map(String).join('.') || '(root)'} ${issue.message}`);
  return issues.length > 10 ? `${shown.join('; ')}; and ${issues.length - 10} more` : shown.join('; ');
}

export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
