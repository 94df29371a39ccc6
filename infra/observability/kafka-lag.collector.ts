import type { Admin, Kafka } from 'kafkajs';
import { ScrapedGauge, type GaugeSample, type Observation } from './scraped-gauge';

const consumerLag = new ScrapedGauge({
  name: 'ficus_consumer_lag',
  help:
    'Records of a topic not yet consumed by a consumer group (high watermark − committed offset, summed ' +
    'over partitions)',
  labelNames: ['group', 'topic'],
});

export interface ConsumedTopics {
  readonly group: string;
  readonly topics: readonly string[];
}

export interface KafkaLagOptions {
  /** A read younger than this is served from memory: scrapes do not each ask the broker. */
  readonly cacheMs?: number;
  /** How long a scrape waits for a fresh read before it serves the last one. */
  readonly waitMs?: number;
  /** A read older than this is not served at all: no lag is better than a stale one. */
  readonly staleAfterMs?: number;
  /** A read that takes longer is abandoned and its admin connection dropped. */
  readonly readTimeoutMs?: number;
}

type LagLabel = 'group' | 'topic';

/**
 * The lag of this process's Kafka consumer groups, read with the admin API when Prometheus
 * scrapes: the high watermark of each partition minus the group's committed offset (the log's
 * start when the group has committed nothing yet, as the consumers read from the beginning). A
 * read is cached for a few seconds; when the broker does not answer, a scrape waits at most
 * `waitMs` and gets the last read while it is fresh, then nothing, never a hung scrape. Give it a
 * client of its own with kafkajs's retries off (`retry: { retries: 0 }`), so that a read against
 * a broker that is away ends in a second instead of retrying in the background.
 */
export class KafkaLagCollector {
  private admin?: Admin;
  private last?: { at: number; samples: readonly GaugeSample<LagLabel>[] };
  private reading?: Promise<void>;
  private closed = false;
  private readonly observation: Observation;
  private readonly options: Required<KafkaLagOptions>;

  constructor(
    private readonly kafka: Kafka,
    private readonly groups: readonly ConsumedTopics[],
    options: KafkaLagOptions = {},
  ) {
    this.options = { cacheMs: 5_000, waitMs: 1_000, staleAfterMs: 60_000, readTimeoutMs: 10_000, ...options };
    this.observation = consumerLag.observe(() => this.samples());
  }

  async samples(): Promise<readonly GaugeSample<LagLabel>[]> {
    const now = Date.now();
    if (!this.reading && (!this.last || now - this.last.at > this.options.cacheMs)) {
      this.reading = this.read().finally(() => (this.reading = undefined));
    }
    if (this.reading) await within(this.reading, this.options.waitMs);
    return this.last && Date.now() - this.last.at <= this.options.staleAfterMs ? this.last.samples : [];
  }

  /** Stops reporting and closes the admin connection. */
  async close(): Promise<void> {
    this.closed = true;
    this.observation.forget();
    await this.dropAdmin();
  }

  private async read(): Promise<void> {
    try {
      const samples = await withTimeout(this.lagOfAllGroups(), this.options.readTimeoutMs);
      this.last = { at: Date.now(), samples };
    } catch {
      // The broker is away or slow: start over with a fresh connection on the next read.
      await this.dropAdmin();
    }
  }

  private async lagOfAllGroups(): Promise<GaugeSample<LagLabel>[]> {
    if (!this.admin) {
      const admin = this.kafka.admin({ retry: { retries: 0 } });
      await admin.connect();
      if (this.closed) {
        await admin.disconnect();
        return [];
      }
      this.admin = admin;
    }
    const admin = this.admin;
    const topics = [...new Set(this.groups.flatMap((g) => g.topics))];
    const ends = new Map<string, Map<number, { high: bigint; low: bigint }>>();
    await Promise.all(
      topics.map(async (topic) => {
        const offsets = await admin.fetchTopicOffsets(topic);
        ends.set(topic, new Map(offsets.map((o) => [o.partition, { high: BigInt(o.high), low: BigInt(o.low) }])));
      }),
    );
    const perGroup = await Promise.all(
      this.groups.map(async ({ group, topics: consumed }) => {
        const committed = await admin.fetchOffsets({ groupId: group, topics: [...consumed] });
        return committed.map(({ topic, partitions }) => {
          let lag = 0n;
          for (const { partition, offset } of partitions) {
            const end = ends.get(topic)?.get(partition);
            if (!end) continue;
            const position = BigInt(offset) < 0n ? end.low : BigInt(offset);
            if (end.high > position) lag += end.high - position;
          }
          return { labels: { group, topic }, value: Number(lag) };
        });
      }),
    );
    return perGroup.flat();
  }

  private async dropAdmin(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }
}

/** Waits for `promise` at most `ms`, whatever its outcome. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
