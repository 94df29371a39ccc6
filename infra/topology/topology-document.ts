import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Pair,
} from 'yaml';
import { interpolate, typePlainValue, type Environment } from './env-interpolation';
import type { TopologyIssue } from './topology-error';

/** A path into the topology as the schema sees it: map keys and list indexes. */
export type ValuePath = readonly (string | number)[];

export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** Where a path lands: on the key that names it (`port:`) or on its value (`50052`). */
export type PathFocus = 'key' | 'value';

/**
 * A parsed topology file that still knows where each value was written, so that an error about
 * `targets.inventory.grpc.port` can point at the line and column to edit.
 */
export class TopologyDocument {
  private constructor(
    readonly file: string,
    private readonly document: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** Parses YAML; syntax errors come back as issues and then the document is not to be trusted. */
  static parse(text: string, file: string): { document: TopologyDocument; issues: TopologyIssue[] } {
    const lines = new LineCounter();
    const parsed = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const document = new TopologyDocument(file, parsed, lines);
    // After the first error on a line the parser's view of the rest of that line is guesswork.
    const issues: TopologyIssue[] = [];
    for (const error of parsed.errors) {
      const issue = document.issueAtOffset(
        error.pos[0],
        yamlMessage(error.code, error.message, sourceLine(text, lines, error.pos[0])),
      );
      if (!issues.some((earlier) => earlier.line === issue.line)) {
        issues.push(issue);
      }
    }
    return { document, issues };
  }

  get isEmpty(): boolean {
    return (
      this.document.contents === null || (isScalar(this.document.contents) && this.document.contents.value === null)
    );
  }

  issueAt(path: ValuePath, message: string, focus: PathFocus = 'value'): TopologyIssue {
    return { file: this.file, ...this.positionOf(path, focus), message };
  }

  issueAtOffset(offset: number, message: string): TopologyIssue {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col, message };
  }

  /**
   * The position of `path`; when the path does not exist in the file (a required key left out),
   * the position of its deepest ancestor that does, which is where the missing key belongs.
   */
  positionOf(path: ValuePath, focus: PathFocus = 'value'): SourcePosition {
    let node: unknown = this.document.contents;
    // The key through which the last step went; none at the root or after a list index.
    let key: Node | undefined;
    let found = 0;
    for (const segment of path) {
      const step = this.step(node, segment);
      if (!step) {
        break;
      }
      node = step.node;
      key = step.pair ? (step.pair.key as Node) : undefined;
      found++;
    }
    const value = node as Node | null | undefined;
    const valueIsEmpty = !value || (isScalar(value) && value.value === null);
    // A missing child belongs under its parent's key; a whole match points where `focus` asks.
    const preferKey = found < path.length || focus === 'key' || valueIsEmpty;
    const target = preferKey ? (key ?? value) : value;
    const offset = target?.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  lineOf(path: ValuePath, focus: PathFocus = 'value'): number {
    return this.positionOf(path, focus).line;
  }

  /**
   * The plain value of the file with `${VAR}` references replaced from `env`. A map entry whose
   * value is a reference that came out empty (`url: ${DATABASE_URL_X:-}`) is left out, as if not
   * written: that is how a file says "use this variable when it is set, else the default".
   * Paths whose references failed are returned so that the schema does not report them twice.
   */
  toValue(env: Environment): { value: unknown; issues: TopologyIssue[]; failedPaths: ValuePath[] } {
    const issues: TopologyIssue[] = [];
    const failedPaths: ValuePath[] = [];
    const active = new Set<unknown>();
    const read = (node: unknown, path: ValuePath): { value: unknown; omit: boolean } => {
      if (isAlias(node)) {
        const resolved = node.resolve(this.document);
        if (active.has(resolved)) {
          issues.push(
            this.issueAtOffset(
              node.range?.[0] ?? 0,
              `alias *${node.source} refers to a value that contains itself — copy the value instead`,
            ),
          );
          failedPaths.push(path);
          return { value: undefined, omit: true };
        }
        return read(resolved, path);
      }
      if (isMap(node)) {
        active.add(node);
        const entries: [string, unknown][] = [];
        for (const item of node.items) {
          const key = keyText(item.key);
          const child = read(item.value, [...path, key]);
          if (!child.omit) {
            entries.push([key, child.value]);
          }
        }
        active.delete(node);
        return { value: Object.fromEntries(entries), omit: false };
      }
      if (isSeq(node)) {
        active.add(node);
        const value = node.items.map((item, index) => read(item, [...path, index]).value);
        active.delete(node);
        return { value, omit: false };
      }
      if (isScalar(node)) {
        if (typeof node.value !== 'string' || !node.value.includes('$')) {
          return { value: node.value, omit: false };
        }
        const result = interpolate(node.value, env);
        if (!result.ok) {
          issues.push(this.issueAtOffset(node.range?.[0] ?? 0, result.message));
          failedPaths.push(path);
          return { value: node.value, omit: false };
        }
        if (result.hadReference && result.value === '') {
          return { value: undefined, omit: true };
        }
        return { value: result.hadReference ? typePlainValue(result.value) : result.value, omit: false };
      }
      return { value: node ?? null, omit: false };
    };
    return { value: read(this.document.contents, []).value, issues, failedPaths };
  }

  private step(node: unknown, segment: string | number): { node: unknown; pair?: Pair } | undefined {
    const resolved = isAlias(node) ? node.resolve(this.document) : node;
    if (isMap(resolved)) {
      const pair = resolved.items.find((item) => isPair(item) && keyText(item.key) === String(segment));
      return pair ? { node: pair.value, pair } : undefined;
    }
    if (isSeq(resolved) && typeof segment === 'number' && segment < resolved.items.length) {
      return { node: resolved.items[segment] };
    }
    return undefined;
  }
}

function keyText(key: unknown): string {
  if (isScalar(key)) {
    return String(key.value);
  }
  return String(key);
}

function sourceLine(text: string, lines: LineCounter, offset: number): string {
  const { line } = lines.linePos(offset);
  const start = lines.lineStarts[line - 1] ?? 0;
  const end = lines.lineStarts[line] ?? text.length;
  return text.slice(start, end);
}

/** yaml's messages are accurate but terse; a hint for the mistakes people make in config files. */
function yamlMessage(code: string, message: string, line: string): string {
  const text = message.replace(/\s+/g, ' ').trim();
  const reference = /\$\{[^}]*\}/.exec(line)?.[0];
  if (reference && /[{[]/.test(line.replace(reference, '')) && !line.includes(`"${reference}"`)) {
    // `{ port: ${PORT} }`: in a flow collection `{` and `}` are YAML's own; the reference must be quoted.
    return (
      `YAML syntax: ${text} — quote a reference inside { } or [ ]: "${reference}" (a number it gives is ` +
      `still read as a number)`
    );
  }
  switch (code) {
    case 'MULTIPLE_DOCS':
      return (
        'YAML syntax: a topology file holds one YAML document — remove the "---" and what follows it, or ' +
        'move that to a file of its own'
      );
    case 'DUPLICATE_KEY':
      return `YAML syntax: ${text} — the same key is written twice in one map; keep one`;
    case 'TAB_AS_INDENT':
      return `YAML syntax: ${text} — indent with spaces, not tabs`;
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
    case 'MULTILINE_IMPLICIT_KEY':
      return `YAML syntax: ${text} — check the indentation and the ":" after each key on this line and the one above`;
    default:
      return `YAML syntax: ${text}`;
  }
}
