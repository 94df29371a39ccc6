import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { FICUS_ROOT_OPTIONS, type FicusRootOptions } from '@infra/runtime';
import { openModuleDataSource, provisionContext } from '@infra/persistence';
import { RateLimitSettings, type RateLimitOptions, type RateLimitRule } from './rate-limit.config';
import {
  CreateRateLimitWindows1764000002200,
  InMemoryRateLimitStore,
  PostgresRateLimitStore,
  type RateLimitClock,
  type RateLimitStore,
  type WindowCount,
} from './rate-limit.store';

/** The edge's own schema and role (ADR 0022): not a bounded context, but kept apart like one. */
export const EDGE_SCHEMA = 'edge';
const EDGE_POOL_SIZE = 5;

export interface RateLimitVerdict extends WindowCount {
  readonly rule: RateLimitRule;
  readonly allowed: boolean;
  readonly remaining: number;
}

/** Counts each request against the first rule that matches it, per client and route. */
@Injectable()
export class RateLimiter implements OnApplicationShutdown {
  private readonly logger = new Logger('RateLimiter');

  constructor(
    readonly settings: RateLimitOptions,
    private readonly store: RateLimitStore,
  ) {}

  ruleFor(method: string, path: string): RateLimitRule {
    return this.settings.rules.find(
      (rule) => (!rule.method || rule.method === method) && (!rule.path || rule.path.test(path)),
    )!;
  }

  /**
   * Undefined when the store cannot answer: the limiter then lets the request through (fails
   * open), because a shop that refuses every request while its counters are unreachable does
   * the attacker's work for them; the log says so.
   */
  async check(rule: RateLimitRule, route: string, client: string): Promise<RateLimitVerdict | undefined> {
    try {
      const count = await this.store.hit(`${rule.name}|${route}|${client}`, rule);
      return { ...count, rule, allowed: count.hits <= rule.limit, remaining: Math.max(0, rule.limit - count.hits) };
    } catch (error) {
      this.logger.warn({ err: error, rule: rule.name }, 'rate limit store unavailable; request let through');
      return undefined;
    }
  }

  /** Windows read the time from `clock` (tests: hold a window still, or step to the next one). */
  useClock(clock: RateLimitClock): void {
    this.store.useClock(clock);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * The limiter of this process: counters in the `edge` schema of the process's database, so every
 * replica of the edge shares them; `DATABASE_URL_EDGE` puts them elsewhere. A process with no
 * database at all counts in memory and says so.
 */
export const rateLimiterProvider = {
  provide: RateLimiter,
  inject: [FICUS_ROOT_OPTIONS],
  useFactory: async (root: FicusRootOptions): Promise<RateLimiter> => {
    const settings = root.configuration.get(RateLimitSettings);
    if (!settings.enabled) return new RateLimiter(settings, new InMemoryRateLimitStore());
    if (!root.database) {
      new Logger('RateLimiter').warn(
        'the edge has no database: rate limits are counted per process, not shared by replicas',
      );
      return new RateLimiter(settings, new InMemoryRateLimitStore());
    }
    const url = await provisionContext(root.database, EDGE_SCHEMA);
    const dataSource = await openModuleDataSource({
      context: EDGE_SCHEMA,
      url,
      entities: [],
      migrations: [CreateRateLimitWindows1764000002200],
      poolSize: Math.min(EDGE_POOL_SIZE, root.database.poolSize),
      // A counter is written on every request; one lost in a crash loosens a limit by a request
      // for one window, so no request waits for the disk (ADR 0022).
      asynchronousCommit: true,
    });
    return new RateLimiter(settings, new PostgresRateLimitStore(dataSource));
  },
};
