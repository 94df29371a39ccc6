import { isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { whose, type ExtractionPlan } from './extraction-plan';

/**
 * The new topology file of an extraction, written as edits of the original text: everything the
 * author wrote (comments, blank lines, order, flow or block style, `${VAR:-default}`s) stays as it
 * was, and only the lines the extraction needs are added. `yaml`'s document API finds where: each
 * node knows its offsets in the text. A file whose top level or `targets` is written in flow style
 * (`targets: { … }`), which no shipped topology is, is re-printed from the document instead, which
 * keeps its comments and order but not its spacing.
 */

/** `defaults.grpc.host` as the file writes it (uninterpolated), if it does. */
export function defaultGrpcHostOf(text: string): string | undefined {
  const host = parseDocument(text).getIn(['defaults', 'grpc', 'host']);
  return typeof host === 'string' && host !== '' ? host : undefined;
}

const commentOf = (plan: ExtractionPlan) => ({
  target:
    `Being extracted from ${plan.owner} (\`ficus extract ${plan.context}\`): runs ${plan.context} beside ` +
    `${plan.owner}, on ${whose(plan.owner)} database, serving only the calls shifted to it (\`ficus shift\`, ` +
    `\`ficus shadow\`). ${plan.owner} keeps ${whose(plan.context)} events and data until \`ficus retire ` +
    `${plan.context}\`.`,
  ownerGrpc: `added by \`ficus extract ${plan.context}\`: every target of a multi-target topology has one`,
  grpcHost: `added by \`ficus extract ${plan.context}\`: where the targets are dialled`,
});

/** The original topology text with the extraction of `plan` written into it. */
export function extractionTopologyText(text: string, plan: ExtractionPlan): string {
  const document = parseDocument(text);
  const top = document.contents;
  const targets = isMap(top) ? pairOf(top, 'targets') : undefined;
  if (
    !isMap(top) ||
    top.flow ||
    !targets ||
    !isMap(targets.value) ||
    targets.value.flow ||
    !isMap(pairOf(targets.value, plan.owner)?.value)
  ) {
    return reprinted(document, plan);
  }
  const edits: TextEdit[] = [];
  const comments = commentOf(plan);

  // name: the new name in place of the old, whatever quoting it had.
  const name = pairOf(top, 'name')!;
  const nameNode = name.value as Node;
  edits.push({ at: nameNode.range![0], remove: nameNode.range![1] - nameNode.range![0], insert: plan.topologyName });

  // The new target, after the last one (a blank line and a comment first, as split.yaml has them).
  const targetMap = targets.value;
  const first = targetMap.items[0] as Pair<Node, Node>;
  const indent = columnOf(text, first.key.range![0]);
  const step =
    isMap(first.value) && !first.value.flow && first.value.items.length > 0
      ? columnOf(text, (first.value.items[0] as Pair<Node>).key.range![0]) - indent
      : 2;
  const pad = ' '.repeat(indent);
  const inner = ' '.repeat(indent + step);
  const end = targetMap.range![2];
  edits.push({
    at: end,
    insert: [
      end > 0 && text[end - 1] !== '\n' ? '\n' : '',
      '\n',
      wrapComment(comments.target, pad),
      `${pad}${plan.target}:\n`,
      `${inner}modules: [${plan.context}]\n`,
      `${inner}extractedFrom: ${plan.owner}\n`,
      `${inner}grpc: { port: ${plan.grpcPort} }\n`,
      `${inner}http: { port: ${plan.httpPort} }\n`,
    ].join(''),
  });

  // The owner's gRPC port, after its modules.
  if (plan.ownerGrpc.added) {
    const owner = pairOf(targetMap, plan.owner)!.value as YAMLMap;
    edits.push(
      entryIn(text, owner, 'grpc', `{ port: ${plan.ownerGrpc.port} }`, comments.ownerGrpc, pairOf(owner, 'modules')),
    );
  }

  // defaults.grpc.host, creating what is missing of defaults and grpc.
  if (plan.addGrpcHost) {
    const defaults = pairOf(top, 'defaults');
    if (!defaults || !isMap(defaults.value)) {
      const at = defaults
        ? {
            at: defaults.key.range![0],
            remove:
              lineEnd(text, contentEnd(text, (defaults.value as Node | null)?.range?.[1] ?? defaults.key.range![1])) -
              defaults.key.range![0],
          }
        : { at: lineEnd(text, nameNode.range![1]) + 1 };
      const block = `defaults:\n${' '.repeat(step)}grpc: { host: ${plan.grpcHost} } # ${comments.grpcHost}`;
      edits.push({ ...at, insert: defaults ? block : `\n${block}\n` });
    } else {
      const grpc = pairOf(defaults.value, 'grpc');
      if (!grpc || !isMap(grpc.value)) {
        edits.push(
          entryIn(
            text,
            defaults.value,
            'grpc',
            `{ host: ${plan.grpcHost} }`,
            comments.grpcHost,
            undefined,
            defaults,
            grpc,
          ),
        );
      } else {
        edits.push(entryIn(text, grpc.value, 'host', plan.grpcHost, comments.grpcHost, undefined, grpc));
      }
    }
  }
  return applied(text, edits);
}

interface TextEdit {
  readonly at: number;
  readonly remove?: number;
  readonly insert: string;
}

function applied(text: string, edits: readonly TextEdit[]): string {
  // From the end, so that each edit's offset still points into the original text.
  return [...edits]
    .sort((a, b) => b.at - a.at)
    .reduce(
      (result, edit) => result.slice(0, edit.at) + edit.insert + result.slice(edit.at + (edit.remove ?? 0)),
      text,
    );
}

/**
 * `key: value` into a map: in a flow map first inside its braces; in a block map on a line of its
 * own after `after` (or after the map's own key line, `parent`), at the indentation of its
 * entries. `replacing` is an entry of that key with no map as value (`grpc:` left empty), which
 * the new line takes the place of.
 */
function entryIn(
  text: string,
  map: YAMLMap,
  key: string,
  value: string,
  comment: string,
  after?: Pair,
  parent?: Pair,
  replacing?: Pair,
): TextEdit {
  if (replacing) {
    const start = (replacing.key as Node).range![0];
    return {
      at: start,
      remove:
        lineEnd(
          text,
          contentEnd(text, (replacing.value as Node | null)?.range?.[1] ?? (replacing.key as Node).range![1]),
        ) - start,
      insert: `${key}: ${value} # ${comment}`,
    };
  }
  if (map.flow) {
    return { at: map.range![0] + 1, insert: map.items.length > 0 ? ` ${key}: ${value},` : ` ${key}: ${value} ` };
  }
  const firstKey = (map.items[0] as Pair<Node> | undefined)?.key;
  const indent = firstKey ? columnOf(text, firstKey.range![0]) : columnOf(text, (parent!.key as Node).range![0]) + 2;
  const anchor = after
    ? ((after.value as Node | null)?.range?.[1] ?? (after.key as Node).range![1])
    : (parent!.key as Node).range![1];
  return {
    at: lineEnd(text, contentEnd(text, anchor)),
    insert: `\n${' '.repeat(indent)}${key}: ${value} # ${comment}`,
  };
}

function pairOf(map: YAMLMap, key: string): Pair<Node, Node | null> | undefined {
  return map.items.find(
    (item): item is Pair<Node, Node | null> => isPair(item) && isScalar(item.key) && item.key.value === key,
  );
}

/** Where the text before `offset` last holds something: a block node's range ends after its newline. */
function contentEnd(text: string, offset: number): number {
  let end = offset;
  while (end > 0 && /\s/.test(text[end - 1])) end--;
  return end;
}

function lineEnd(text: string, offset: number): number {
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? text.length : newline;
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/** A comment over lines of at most 100 characters, each at `pad`. */
function wrapComment(comment: string, pad: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of comment.split(' ')) {
    if (line && pad.length + 2 + line.length + 1 + word.length > 100) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.map((text) => `${pad}# ${text}\n`).join('');
}

/** The fallback for a file in flow style: the same edits through the document, printed again. */
function reprinted(document: Document, plan: ExtractionPlan): string {
  const comments = commentOf(plan);
  document.set('name', plan.topologyName);
  if (plan.addGrpcHost) {
    document.setIn(['defaults', 'grpc', 'host'], plan.grpcHost);
  }
  if (plan.ownerGrpc.added) {
    document.setIn(['targets', plan.owner, 'grpc'], document.createNode({ port: plan.ownerGrpc.port }, { flow: true }));
    const grpc = document.getIn(['targets', plan.owner, 'grpc'], true) as Node;
    grpc.comment = ` ${comments.ownerGrpc}`;
  }
  const target = document.createNode(
    {
      modules: [plan.context],
      extractedFrom: plan.owner,
      grpc: { port: plan.grpcPort },
      http: { port: plan.httpPort },
    },
    { flow: false },
  ) as YAMLMap;
  for (const item of target.items as Pair<Node, Node>[])
    if (isMap(item.value) || isSeq(item.value)) item.value.flow = true;
  const targets = document.get('targets', true) as YAMLMap;
  const key = document.createNode(plan.target) as Node;
  key.commentBefore = ` ${comments.target}`;
  key.spaceBefore = true;
  targets.items.push(document.createPair(key, target) as Pair);
  return document.toString({ lineWidth: 0 });
}
