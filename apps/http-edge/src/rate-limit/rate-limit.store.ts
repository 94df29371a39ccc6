import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import type { RateLimit } from './rate-limit.config';

/** Where a client stands in its current window after counting one more request. */
export interface WindowCount {
  readonly hits: number;
  /** Seconds until the window ends and the count starts again (at least 1). */
  readonly resetSeconds: number;
}

export interface RateLimitStore {
  /** Counts one request in `bucket`'s current fixed window, atomically. */
  hit(bucket: string, limit: RateLimit): Promise<WindowCount>;
  /** Reads the time from `clock` from now on. */
  useClock(clock: RateLimitClock): void;
  close(): Promise<void>;
}

/**
 * Where the windows' time comes from: undefined is the store's own clock (the database's, so that
 * replicas with skewed clocks agree); an instant is that time, for tests that hold a window still
 * or move to the next one without waiting for it.
 */
export interface RateLimitClock {
  now(): Date | undefined;
}

/** The store's own clock. */
export const STORE_CLOCK: RateLimitClock = { now: () => undefined };

/** Windows last at most a day (rate-limit.config), so a row older than this is dead. */
const STALE_AFTER = "interval '2 days'";
const PURGE_EVERY_MS = 10 * 60_000;

export class CreateRateLimitWindows1764000002200 implements MigrationInterface {
  name = 'CreateRateLimitWindows1764000002200';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE rate_limit_windows (
        bucket text PRIMARY KEY,
        window_start timestamptz NOT NULL,
        hits integer NOT NULL
      )`);
    await runner.query('CREATE INDEX rate_limit_windows_by_start ON rate_limit_windows (window_start)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE rate_limit_windows');
  }
}

/**
 * Fixed-window counters in PostgreSQL, so that every gateway replica counts against one limit
 * (ADR 0022). One row per bucket, rewritten in place: a single INSERT … ON CONFLICT DO UPDATE
 * both starts a window and counts in it, atomically under concurrent replicas. The window is
 * computed from the database's clock, never a replica's, so replicas with skewed clocks still
 * agree on where a window starts.
 */
export class PostgresRateLimitStore implements RateLimitStore {
  private readonly purge: NodeJS.Timeout;
  private clock: RateLimitClock = STORE_CLOCK;

  constructor(private readonly dataSource: DataSource) {
    this.purge = setInterval(() => void this.purgeStale().catch(() => undefined), PURGE_EVERY_MS);
    this.purge.unref();
  }

  async hit(bucket: string, limit: RateLimit): Promise<WindowCount> {
    const [row] = (await this.dataSource.query(
      `INSERT INTO rate_limit_windows AS w (bucket, window_start, hits)
       VALUES ($1, to_timestamp(floor(extract(epoch FROM COALESCE($3::timestamptz, clock_timestamp())) / $2::int)
                                * $2::int), 1)
       ON CONFLICT (bucket) DO UPDATE
         SET hits = CASE WHEN w.window_start >= EXCLUDED.window_start THEN w.hits + 1 ELSE 1 END,
             window_start = GREATEST(w.window_start, EXCLUDED.window_start)
       RETURNING hits,
                 ceil(extract(epoch FROM w.window_start) + $2::int
                      - extract(epoch FROM COALESCE($3::timestamptz, clock_timestamp())))::int AS reset_seconds`,
      [bucket, limit.windowSeconds, this.clock.now()?.toISOString() ?? null],
    )) as Array<{ hits: number; reset_seconds: number }>;
    return { hits: row.hits, resetSeconds: Math.max(1, row.reset_seconds) };
  }

  useClock(clock: RateLimitClock): void {
    this.clock = clock;
  }

  /** Buckets of clients that stopped coming; a live bucket's row is reused, never piles up. */
  async purgeStale(): Promise<number> {
    const [, deleted] = (await this.dataSource.query(
      `DELETE FROM rate_limit_windows WHERE window_start < now() - ${STALE_AFTER}`,
    )) as [unknown, number];
    return deleted;
  }

  async close(): Promise<void> {
    clearInterval(this.purge);
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** For an edge given no database: limits hold per process only (the log says so at start-up). */
export class InMemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { start: number; hits: number }>();
  private clock: RateLimitClock = STORE_CLOCK;

  hit(bucket: string, limit: RateLimit): Promise<WindowCount> {
    const now = this.clock.now()?.getTime() ?? Date.now();
    const windowMs = limit.windowSeconds * 1000;
    const start = Math.floor(now / windowMs) * windowMs;
    const current = this.windows.get(bucket);
    const hits = current && current.start === start ? current.hits + 1 : 1;
    if (this.windows.size > 100_000) this.windows.clear(); // bounded: forgetting counts only loosens limits
    this.windows.set(bucket, { start, hits });
    return Promise.resolve({ hits, resetSeconds: Math.max(1, Math.ceil((start + windowMs - now) / 1000)) });
  }

  useClock(clock: RateLimitClock): void {
    this.clock = clock;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
