import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';

/**
 * The topology after `ficus retire <context>`: the owner no longer hosts the context, and the
 * extracted target owns it — its events, its consumers, its relay. Its data stays where it is
 * (both targets keep the database they shared, written `database: { shared: true }`, since with
 * two owners a target without one would get a database of its own); moving it is a later step.
 * Events now cross targets, so a topology without brokers gets the usual default. Comments and
 * order of the file are kept.
 */
export function retiredTopology(text: string, context: string): string {
  const document = parseDocument(text);
  const targets = document.get('targets') as YAMLMap | undefined;
  if (!isMap(targets)) throw new Error('the topology has no targets');
  let extracted: { name: string; map: YAMLMap } | undefined;
  for (const pair of targets.items) {
    const map = pair.value;
    if (!isMap(map)) continue;
    const modules = map.get('modules');
    if (map.get('extractedFrom') !== undefined && isSeq(modules) && modules.items.some((item) => scalarText(item) === context)) {
      extracted = { name: scalarText(pair.key), map };
    }
  }
  if (!extracted) throw new Error(`no target is extracting ${context} in this topology (ficus extract ${context} writes one)`);
  const ownerName = String(extracted.map.get('extractedFrom'));
  const owner = targets.get(ownerName) as YAMLMap | undefined;
  if (!isMap(owner)) throw new Error(`${extracted.name} is extracted from ${ownerName}, which is not a target here`);

  const ownerModules = owner.get('modules');
  if (isSeq(ownerModules)) {
    const index = ownerModules.items.findIndex((item) => scalarText(item) === context);
    if (index >= 0) ownerModules.items.splice(index, 1);
  }
  for (const target of [owner, extracted.map]) {
    if (target.get('database') === undefined) target.set('database', document.createNode({ shared: true }, { flow: true }));
  }
  extracted.map.delete('extractedFrom');
  if (document.getIn(['defaults', 'kafka', 'brokers']) === undefined) {
    document.setIn(['defaults', 'kafka', 'brokers'], '${KAFKA_BROKERS:-127.0.0.1:9092}');
  }
  return document.toString();
}

function scalarText(node: unknown): string {
  return typeof node === 'object' && node !== null && 'value' in node ? String((node as { value: unknown }).value) : String(node);
}
