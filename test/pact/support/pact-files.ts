import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Where the pacts live and how a consumer test's fresh pact is held against the committed one.
 *
 * Consumer tests write into a throwaway folder of their own, never into `pacts/`: providers verify
 * the committed files, so no provider test depends on a consumer test having run first (Jest runs
 * files in any order, two at a time). Each consumer test then checks that what it wrote equals the
 * committed pact; a consumer change without its pact updated fails there. `FICUS_PACT_UPDATE=1`
 * writes the fresh pacts into `pacts/` instead (see docs/contract-testing.md).
 */
export const PACTS_DIR = resolve(__dirname, '../../../pacts');

export const UPDATE_PACTS = process.env.FICUS_PACT_UPDATE === '1';

/** The participant name a bounded context has in pacts. */
export const participant = (context: string): string => `ficus-${context}`;

/** The web shop that calls the public HTTP API (the README's curl session). */
export const SHOP_WEB = 'shop-web';
export const HTTP_EDGE = 'ficus-http-edge';

export const pactFileName = (consumer: string, provider: string): string => `${consumer}-${provider}.json`;
export const committedPactPath = (consumer: string, provider: string): string =>
  join(PACTS_DIR, pactFileName(consumer, provider));

interface PactFile {
  consumer: { name: string };
  provider: { name: string };
  interactions: Array<{ description: string; providerStates?: Array<{ name: string }>; type?: string }>;
  metadata?: { pactSpecification?: { version?: string } } & Record<string, unknown>;
}

/**
 * The part of a pact that is the contract: participants, specification and interactions (in a
 * stable order). The tool versions in `metadata` are left out, so upgrading pact alone does not
 * make every committed pact "stale".
 */
export function contractOf(pact: PactFile) {
  const key = (i: PactFile['interactions'][number]) =>
    `${i.type ?? ''}|${i.description}|${(i.providerStates ?? []).map((s) => s.name).join(',')}`;
  return {
    consumer: pact.consumer.name,
    provider: pact.provider.name,
    specification: pact.metadata?.pactSpecification?.version,
    interactions: [...pact.interactions].sort((a, b) => key(a).localeCompare(key(b))),
  };
}

export function readPact(path: string): PactFile {
  return JSON.parse(readFileSync(path, 'utf8')) as PactFile;
}

/** Every committed pact in which `provider` is the provider. */
export function committedPactsOf(provider: string): string[] {
  const suffix = `-${provider}.json`;
  return readdirSync(PACTS_DIR)
    .filter((file) => file.endsWith(suffix))
    .sort()
    .map((file) => join(PACTS_DIR, file));
}

/** A folder for one consumer test file's freshly written pacts, removed by `dispose`. */
export function freshPactDir(label: string): { dir: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), `ficus-pact-${label}-`));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Checks the pact a consumer test just wrote against the committed one (or, with
 * FICUS_PACT_UPDATE=1, commits it). Returns the differences as a readable message, empty when none.
 */
export function compareWithCommitted(
  writtenDir: string,
  consumer: string,
  provider: string,
  options = { update: UPDATE_PACTS },
): string {
  const written = join(writtenDir, pactFileName(consumer, provider));
  if (!existsSync(written)) return `the consumer test wrote no pact ${pactFileName(consumer, provider)}`;
  const committed = committedPactPath(consumer, provider);
  if (options.update) {
    mkdirSync(PACTS_DIR, { recursive: true });
    writeFileSync(committed, readFileSync(written, 'utf8'));
    return '';
  }
  if (!existsSync(committed)) {
    return `pacts/${pactFileName(consumer, provider)} is not committed: run FICUS_PACT_UPDATE=1 npx jest 'test/pact/.*consumer' and commit it`;
  }
  const fresh = JSON.stringify(sortedKeys(contractOf(readPact(written))), null, 1);
  const kept = JSON.stringify(sortedKeys(contractOf(readPact(committed))), null, 1);
  if (fresh === kept) return '';
  return (
    `pacts/${pactFileName(consumer, provider)} is not what the consumer test expects now: ` +
    `review the change, then run FICUS_PACT_UPDATE=1 npx jest 'test/pact/.*consumer' and commit the pact.\n` +
    firstDifference(kept, fresh)
  );
}

/** The same JSON with every object's keys in order: a difference shows as the line that differs. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

function firstDifference(kept: string, fresh: string): string {
  const a = kept.split('\n');
  const b = fresh.split('\n');
  const at = a.findIndex((line, i) => line !== b[i]);
  const line = at === -1 ? a.length : at;
  return `first difference at line ${line + 1}:\n  committed: ${a[line] ?? '(end)'}\n  fresh:     ${b[line] ?? '(end)'}`;
}
