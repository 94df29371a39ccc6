import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The two steps around `tsc -p tsconfig.build.json` that make `dist/` runnable with plain
 * `node` (docs/adr/0013-one-image-for-every-process.md):
 *
 * - `clean` (npm's `prebuild`): empties `dist/`, so that a deleted source leaves no stale `.js`.
 * - `copy-runtime-files` (npm's `postbuild`, after `tsc-alias` has rewritten the path aliases):
 *   copies the files that the code reads at run time next to the code that reads them. tsc
 *   emits only JavaScript; `shippedTopologyPath()` looks for the topology YAMLs beside its own
 *   compiled file.
 */

/**
 * tsconfig.json's `outDir`; `rootDir` is the project root, so `apps/x/src/main.ts` lands in
 * `dist/apps/x/src/main.js`.
 */
export const BUILD_OUTPUT_DIR = 'dist';

/** Folders whose files of these kinds are read at run time, relative to the project root. */
export const RUNTIME_FILES: readonly { readonly dir: string; readonly pattern: RegExp }[] = [
  { dir: 'infra/topology', pattern: /\.ya?ml$/ },
];

const PROJECT_ROOT = resolve(__dirname, '..', '..', '..');

export function cleanBuildOutput(outDir = join(PROJECT_ROOT, BUILD_OUTPUT_DIR)): void {
  rmSync(outDir, { recursive: true, force: true });
}

/** Copies every run-time file into `outDir`, at the same relative path; returns those paths. */
export function copyRuntimeFiles(outDir = join(PROJECT_ROOT, BUILD_OUTPUT_DIR), root = PROJECT_ROOT): string[] {
  const copied: string[] = [];
  for (const { dir, pattern } of RUNTIME_FILES) {
    for (const file of readdirSync(join(root, dir)).filter((name) => pattern.test(name))) {
      const path = join(dir, file);
      cpSync(join(root, path), join(outDir, path));
      copied.push(path);
    }
  }
  return copied;
}

if (require.main === module) {
  const step = process.argv[2];
  if (step === 'clean') {
    cleanBuildOutput();
  } else if (step === 'copy-runtime-files') {
    const copied = copyRuntimeFiles();
    process.stdout.write(
      `build: copied ${copied.length} run-time files into ${BUILD_OUTPUT_DIR}/ (${copied.join(', ')})\n`,
    );
  } else {
    process.stderr.write('usage: build-output.ts clean | copy-runtime-files\n');
    process.exit(2);
  }
}
