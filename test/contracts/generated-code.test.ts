import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '../..');
const BUF = join(ROOT, 'node_modules/.bin/buf');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** contracts/generated is what `npm run proto:generate` writes from the .proto files: never stale, never edited. */
describe('generated contract code', () => {
  it('matches a fresh buf generate of the .proto files', () => {
    const out = mkdtempSync(join(tmpdir(), 'ficus-buf-'));
    try {
      execFileSync(BUF, ['generate', '--output', out], { cwd: ROOT, stdio: 'pipe' });
      const fresh = join(out, 'contracts/generated');
      const committed = join(ROOT, 'contracts/generated');
      const list = (dir: string) =>
        files(dir)
          .map((f) => relative(dir, f))
          .sort();
      expect(list(committed)).toEqual(list(fresh));
      for (const file of list(fresh)) {
        expect({ file, text: readFileSync(join(committed, file), 'utf8') }).toEqual({
          file,
          text: readFileSync(join(fresh, file), 'utf8'),
        });
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('passes buf lint', () => {
    expect(() => execFileSync(BUF, ['lint'], { cwd: ROOT, stdio: 'pipe' })).not.toThrow();
  });
});
