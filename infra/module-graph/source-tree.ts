import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** One source file of the tree under analysis: its path from the root (with `/`) and its text. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

const TYPESCRIPT = /\.(ts|mts|cts)$/;
const NOT_PRODUCTION = /\.(test|spec)\.ts$|\.d\.ts$/;

/**
 * The TypeScript files of `folders` under `root` (tests and declaration files left out: they are
 * not what runs). Paths come back relative to `root` with forward slashes, as the rules read them.
 */
export function readSourceTree(root: string, folders: readonly string[]): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      if (entry === 'node_modules' || entry.startsWith('.')) continue;
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) {
        walk(full);
      } else if (TYPESCRIPT.test(entry) && !NOT_PRODUCTION.test(entry)) {
        files.push({ path: relative(root, full).split(sep).join('/'), text: readFileSync(full, 'utf8') });
      }
    }
  };
  for (const folder of folders) {
    const dir = join(root, folder);
    if (existsSync(dir)) walk(dir);
  }
  return files;
}

/** The bounded contexts of a tree: every `modules/<name>/` folder. */
export function contextsOf(files: readonly SourceFile[]): string[] {
  const names = new Set<string>();
  for (const { path } of files) {
    const match = /^modules\/([^/]+)\/src\//.exec(path);
    if (match) names.add(match[1]);
  }
  return [...names].sort();
}
