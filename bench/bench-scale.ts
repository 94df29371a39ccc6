/**
 * How big the benchmarks run. `npm run bench` runs them full size; `npm run bench -- --smoke`
 * (FICUS_BENCH_SMOKE=1, what `.ci/run` runs) runs each with small counts, so that every benchmark
 * runs in CI and none can rot unnoticed: its figures mean little, and no aim is checked.
 */
export const SMOKE = process.env.FICUS_BENCH_SMOKE === '1';

function scaled(full: number, smoke: number): number {
  return SMOKE ? smoke : full;
}

/** Orders per measured round, posted CONCURRENCY at a time. */
export const ORDERS_PER_ROUND = scaled(200, 24);
export const CONCURRENCY = 16;
/** Measured rounds per topology (they alternate). */
export const ROUNDS = scaled(2, 1);
export const WARM_UP_ORDERS = scaled(30, 4);
/**
 * The split shop's warm-up: its Kafka broker is a JVM started for the run, whose JIT takes on the
 * order of a thousand orders' requests to settle (its CPU per order falls about fourfold over
 * them); a broker in production has long been warm.
 */
export const SPLIT_WARM_UP_ORDERS = scaled(600, 4);
/** Orders posted at a steady rate, for latency without a backlog. */
export const PACED_ORDERS = scaled(60, 8);
/** Orders placed one at a time on an idle shop, to break their sagas into hops. */
export const HOP_ORDERS = scaled(30, 3);
/** Orders placed one at a time, each after the one before ended. */
export const ONE_AT_A_TIME_ORDERS = scaled(40, 5);
/** Orders of each side whose statements are counted (pg_stat_statements), after the timed rounds. */
export const COUNTED_ORDERS = scaled(100, 8);
/**
 * A shop at rest as it runs in service: measured once it has had no request for REST_SETTLE_MS and
 * has run for REST_MIN_AGE_MS, over REST_WINDOW_MS. At rest the processes' CPU is mostly garbage
 * collection of what their timers allocate, in bursts: every process of a freshly started shop
 * makes its first large collection about 110 s after it started (V8 CPU profiles,
 * docs/performance.md), and smaller ones recur. A short window reads whatever burst falls in it
 * (5 s right after a load has read 0.006 to 0.034 cores for the same split shop); a long one, once
 * the first collection is behind, reads what a shop in service costs.
 */
export const REST_SETTLE_MS = scaled(30_000, 0);
export const REST_MIN_AGE_MS = scaled(150_000, 0);
export const REST_WINDOW_MS = scaled(60_000, 2_000);
/** Reads per measured round of the read benchmark. */
export const READS = scaled(400, 40);

export { scaled };
