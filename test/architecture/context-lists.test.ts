import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ALL_CONTEXTS } from '../support/contexts';

/**
 * A test never spells out the shop's contexts (issue 16, item 3): `ficus new context` adds one to
 * every shipped file, and a fixture that lists the seven by hand would then place the new one
 * nowhere, so `npm test` would fail on the day a team adds a context. Fixtures derive their lists
 * from `test/support/contexts.ts` instead (`flowList(ALL_CONTEXTS)`, `contextsBut('inventory')`).
 *
 * What counts as spelled out: one bracketed list (a YAML flow list or an array literal, over
 * several lines or one) that names every context, or every context but one.
 */

const root = resolve(__dirname, '../..');

/** Lists that name the contexts as a fact of the source, not as the shop; each says why. */
const FACTS: Record<string, string> = {
  'test/migration-guide/graph.test.ts': "the contexts the edge's controllers call, read from apps/http-edge",
};

interface SpelledOut {
  readonly line: number;
  readonly named: number;
}

function spelledOutLists(text: string, contexts: readonly string[]): SpelledOut[] {
  const name = new RegExp(`(?<![\\w.-])(${contexts.join('|')})(?![\\w-])`, 'g');
  const found: SpelledOut[] = [];
  for (const list of text.matchAll(/\[[^[\]]*\]/g)) {
    const named = new Set(list[0].match(name)).size;
    if (named >= contexts.length - 1) found.push({ line: text.slice(0, list.index).split('\n').length, named });
  }
  return found;
}

function testSources(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

describe('context lists in tests', () => {
  it('finds a list of the shop, one line or several, and not a list of some contexts', () => {
    const shop = ['catalog', 'inventory', 'ordering', 'payments'];
    // Fails when the check misses the shape it exists for, or flags a domain fact.
    expect(spelledOutLists(`'    modules: [catalog, ordering, payments]',`, shop)).toEqual([{ line: 1, named: 3 }]);
    expect(
      spelledOutLists(`x\nexpect(core).toEqual([\n  'catalog',\n  'inventory',\n  'payments',\n]);`, shop),
    ).toEqual([{ line: 2, named: 3 }]);
    expect(spelledOutLists(`consumers: ['ordering', 'payments']; modules: [catalog.v1]`, shop)).toEqual([]);
    expect(spelledOutLists('modules: ${flowList(contextsBut(`inventory`))}', shop)).toEqual([]);
  });

  it('no test spells out every context: fixtures derive them from test/support/contexts.ts', () => {
    const offenders = testSources(join(root, 'test'))
      .filter((file) => !(file in FACTS))
      .flatMap((file) =>
        spelledOutLists(readFileSync(join(root, file), 'utf8'), ALL_CONTEXTS).map(
          ({ line, named }) => `${file}:${line}: names ${named} of the ${ALL_CONTEXTS.length} contexts`,
        ),
      );

    expect(offenders).toEqual([]);
  });

  it('every list kept as a fact still names them (else it leaves the exceptions)', () => {
    for (const file of Object.keys(FACTS)) {
      expect({ file, lists: spelledOutLists(readFileSync(join(root, file), 'utf8'), ALL_CONTEXTS).length }).toEqual({
        file,
        lists: 1,
      });
    }
  });
});
