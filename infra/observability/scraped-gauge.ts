import { Gauge } from 'prom-client';
import { processMetrics } from './process-metrics';

export interface GaugeSample<L extends string> {
  readonly labels: Partial<Record<L, string>>;
  readonly value: number;
}

/** Reads the current state of one thing (a context, a remote target, a consumer group). */
export type GaugeSource<L extends string> = () => readonly GaugeSample<L>[] | Promise<readonly GaugeSample<L>[]>;

export interface Observation {
  /** Stops reporting the source (its context or transport closed). */
  forget(): void;
}

/** The most a scrape waits for one source; a source that takes longer reports nothing this time. */
export const SCRAPE_SOURCE_TIMEOUT_MS = 2_000;

/**
 * A gauge of state, read from its sources when Prometheus scrapes and never kept up to date in
 * between: the backlog of an outbox or a pool's connections cost nothing until someone looks.
 * Sources come and go with what they observe (a process may hold several apps in tests). A source
 * that fails or is slow reports nothing rather than a stale or invented value, and a scrape never
 * waits longer than SCRAPE_SOURCE_TIMEOUT_MS for it.
 */
export class ScrapedGauge<L extends string> {
  private readonly sources = new Set<GaugeSource<L>>();

  constructor(options: { name: string; help: string; labelNames: readonly L[]; timeoutMs?: number }) {
    const sources = this.sources;
    const timeoutMs = options.timeoutMs ?? SCRAPE_SOURCE_TIMEOUT_MS;
    new Gauge<L>({
      name: options.name,
      help: options.help,
      labelNames: options.labelNames,
      registers: [processMetrics],
      async collect() {
        const read = await Promise.all([...sources].map((source) => samplesWithinTime(source, timeoutMs)));
        this.reset(); // after the reads, so that two scrapes at once cannot interleave their values
        for (const samples of read) {
          for (const sample of samples) this.set(sample.labels, sample.value);
        }
      },
    });
  }

  observe(source: GaugeSource<L>): Observation {
    this.sources.add(source);
    return { forget: () => this.sources.delete(source) };
  }
}

/** A source's samples, or none when it fails or takes longer than `timeoutMs`. */
function samplesWithinTime<L extends string>(
  source: GaugeSource<L>,
  timeoutMs: number,
): Promise<readonly GaugeSample<L>[]> {
  return withinTime(Promise.resolve().then(source), timeoutMs).catch(() => []);
}

/** `work`, or a rejection once `ms` have passed (the work itself goes on, and its late failure is ignored). */
export function withinTime<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One read shared by everything that asks within `ttlMs`: several gauges of one scrape (an
 * outbox's backlog and its oldest age) cost one query, and concurrent scrapes share it too. A
 * read still running is shared however old it is: a slow database never gets a second one piled
 * on top by the next scrape.
 */
export function sharedRead<T>(read: () => Promise<T>, ttlMs = 1_000): () => Promise<T> {
  let last: { at: number; value: Promise<T>; settled: boolean } | undefined;
  return () => {
    const now = Date.now();
    // `>=`: with a ttl of 0 every settled answer is stale, also within the millisecond it settled in.
    if (!last || (last.settled && now - last.at >= ttlMs)) {
      const value = read();
      const entry = { at: now, value, settled: false };
      last = entry;
      value.then(
        () => {
          entry.settled = true;
          entry.at = Date.now();
        },
        () => {
          if (last === entry) last = undefined; // a failure is not remembered
        },
      );
    }
    return last.value;
  };
}
