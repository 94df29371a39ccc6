import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';

/**
 * The topology after `ficus retire <context>`: the owner no longer hosts the context, and the
 * extracted target owns it — its events, its consumers, its relay. Its data stays where it is:
 * both targets keep the database they shared, written out on both (the owner's `database:` as it
 * was, or `shared: true` for a lone owner on the process's database, or its implicit
 * `ficus_<owner>`), since with two owners a target without one gets a database of its own.
 * Moving the data is a later step.
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
    if (
      map.get('extractedFrom') !== undefined &&
      isSeq(modules) &&
      modules.items.some((item) => scalarText(item) === context)
    ) {
      extracted = { name: scalarText(pair.key), map };
    }
  }
  if (!extracted)
    throw new Error(`no target is extracting ${context} in this topology (ficus extract ${context} writes one)`);
  const ownerName = String(extracted.map.get('extractedFrom'));
  const owner = targets.get(ownerName) as YAMLMap | undefined;
  if (!isMap(owner)) throw new Error(`${extracted.name} is extracted from ${ownerName}, which is not a target here`);

  const ownerModules = owner.get('modules');
  if (isSeq(ownerModules)) {
    const index = ownerModules.items.findIndex((item) => scalarText(item) === context);
    if (index >= 0) ownerModules.items.splice(index, 1);
  }
  // The database the extracted copy worked on is its owner's, whatever the owner's was: written
  // out on both, since an owner without one in a topology of two owners gets ficus_<target>.
  const owners = targets.items.filter(
    (pair) => isMap(pair.value) && pair.value.get('extractedFrom') === undefined,
  ).length;
  const ownerDatabase = owner.get('database');
  const effective =
    ownerDatabase !== undefined
      ? document.createNode((ownerDatabase as YAMLMap).toJSON(), { flow: true })
      : document.createNode(owners === 1 ? { shared: true } : { name: `ficus_${ownerName.replace(/-/g, '_')}` }, {
          flow: true,
        });
  if (ownerDatabase === undefined) owner.set('database', effective);
  if (extracted.map.get('database') === undefined)
    extracted.map.set('database', document.createNode((effective as YAMLMap).toJSON(), { flow: true }));
  extracted.map.delete('extractedFrom');
  if (document.getIn(['defaults', 'kafka', 'brokers']) === undefined) {
    document.setIn(['defaults', 'kafka', 'brokers'], '${KAFKA_BROKERS:-127.0.0.1:9092}');
  }
  return document.toString();
}

function scalarText(node: unknown): string {
  return typeof node === 'object' && node !== null && 'value' in node
    ? String((node as { value: unknown }).value)
    : String(node);
}
