import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMOKE } from './bench-scale';

/** Nanoseconds per operation of `op`, run `iterations` times back to back. */
export async function nsPerOp(op: () => Promise<unknown>, iterations: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    await op();
  }
  return Number(process.hrtime.bigint() - started) / iterations;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Runs `a` and `b` in alternating rounds (a, b, b, a, ...) so that a noisy neighbour on a shared
 * machine hits both alike; compares their medians.
 */
export async function sideBySide(
  a: () => Promise<number>,
  b: () => Promise<number>,
  rounds: number,
): Promise<{ a: number; b: number; ratio: number; roundsA: number[]; roundsB: number[] }> {
  const roundsA: number[] = [];
  const roundsB: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      roundsA.push(await a());
      roundsB.push(await b());
    } else {
      roundsB.push(await b());
      roundsA.push(await a());
    }
  }
  const ma = median(roundsA);
  const mb = median(roundsB);
  return { a: ma, b: mb, ratio: ma / mb, roundsA, roundsB };
}

/**
 * Writes a benchmark's figures to bench/results/<name>.json, which docs/performance.md and its
 * charts read. A smoke run (bench-scale.ts) writes them to the system's temp folder instead: its
 * small counts must not replace the figures of a full run.
 */
export function writeResult(name: string, result: Record<string, unknown>): string {
  const dir = SMOKE ? join(tmpdir(), 'ficus-bench-smoke') : join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ benchmark: name, measuredAt: new Date().toISOString(), node: process.version, ...result }, null, 2)}\n`,
  );
  return file;
}

export function line(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** A figure to one decimal, as the results print it. */
export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** A figure to two decimals, as the results print it. */
export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
