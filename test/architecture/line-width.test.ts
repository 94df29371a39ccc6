import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/**
 * House style by tools (issue 16, item 8): Prettier lays code out in 120 columns (`npm run
 * format:check`), but leaves long strings, comments and imports as they are; this holds every
 * line of production code to the same width. Generated codecs and released migrations (their
 * checksums are recorded) are left out.
 */

const root = resolve(__dirname, '../..');
const WIDTH = 120;
const LEFT_OUT = [
  /^contracts\/generated\//,
  /\/persistence\/migrations\//,
  /^infra\/persistence\/[^/]+\.migration\.ts$/,
];

function productionSources(): string[] {
  return ['apps', 'modules', 'infra', 'contracts'].flatMap((folder) =>
    readdirSync(join(root, folder), { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile() && /\.(ts|mjs|cjs|js)$/.test(entry.name) && !entry.name.endsWith('.test.ts'))
      .map((entry) => relative(root, join(entry.parentPath, entry.name)))
      .filter((path) => !LEFT_OUT.some((pattern) => pattern.test(path))),
  );
}

describe('line width', () => {
  it(`no line of production code is longer than ${WIDTH} columns`, () => {
    const files = productionSources();
    expect(files.length).toBeGreaterThan(200);
    const tooLong = files.flatMap((file) =>
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .flatMap((line, index) => ([...line].length > WIDTH ? [`${file}:${index + 1} (${[...line].length})`] : [])),
    );
    expect(tooLong).toEqual([]);
  });
});
