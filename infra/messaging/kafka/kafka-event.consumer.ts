import { Logger } from '@nestjs/common';
import type { Consumer, ConsumerCrashEvent, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { EnvelopeSchema, illFormedTextIn, type Envelope } from '@contracts/kernel';
import type { DeliveryOutcome, EventDelivery } from '../event-transport';
import { bounded, describe, issuesOf } from '../dead-letter-reason';
import { isContentFailure } from '../transient-failure';
import { consumerGroupOf, DEFAULT_KAFKA_NAMESPACE, deadLetterTopicOf, eventTopicOf, HEADERS } from './kafka-topics';

export interface KafkaConsumerOptions {
  /** The consuming context: its group is `<namespace>.<context>`. */
  readonly context: string;
  /** Its deliveries (inbox consumers), each for one event key (`type.vN`). */
  readonly deliveries: readonly EventDelivery[];
  /** How many partitions it works on at once (order within a partition is always kept). */
  readonly partitionsConsumedConcurrently?: number;
  readonly namespace?: string;
  /**
   * How long a handled record's offset may wait to be committed with the ones after it (250 ms).
   * The inbox, not the offset, is the record of what was handled: a crash within this window
   * means those records come again, and the inbox takes each once.
   */
  readonly commitEveryMs?: number;
  /**
   * How long the broker waits for a heartbeat before it takes this member's partitions away (10 s;
   * the broker allows 6 s at the least). A record being handled sends them meanwhile.
   */
  readonly sessionTimeoutMs?: number;
  /**
   * How long one record may be in hand before the consumer says so (60 s: longer than its
   * in-process attempts take, each waiting at most 10 s for a connection): a warning in the log,
   * and in `health()`'s detail. Its heartbeats keep its partitions meanwhile, so nothing else would.
   */
  readonly longRecordMs?: number;
}

/** How often a member handling one record says it is alive (kafkajs sends at most one per heartbeatInterval). */
const HEARTBEAT_WHILE_HANDLING_MS = 1_000;

/** A partition's next offset to read, handled up to there but not yet committed. */
interface Uncommitted {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * One consuming context's Kafka consumer group. Each record is handed to the context's inbox
 * consumer (its inbox transaction, retries and dead-letter table), and its offset is committed
 * only after that: a crash before the commit means a redelivery, which the inbox absorbs. A
 * record that cannot be read, or that the consumer gave up on, also goes to the context's
 * dead-letter topic with the reason in headers, and the partition moves on. Only when the
 * consumer could not even record the outcome (its database is down) is the offset left
 * uncommitted, so the record comes again.
 *
 * kafkajs restarts a consumer that crashed on an error it counts as retriable, and leaves one
 * stopped for good otherwise: a broker that is coming back can answer a group request with such
 * an error (tulios/kafkajs#267, #1011). This consumer then starts a new one in the same group,
 * backing off from 1 s to 30 s between attempts, and `health()` says it is down until the new one
 * has joined its group: a process never reports ready while one of its contexts hears nothing.
 */
export class KafkaEventConsumer {
  private readonly logger: Logger;
  private consumer?: Consumer;
  private readonly deadLetters: Producer;
  /** Why the consumer is not consuming, while it is being started again after a crash. */
  private down?: string;
  /** The records being handled, per partition: since when. */
  private readonly inHand = new Map<string, { readonly since: number; readonly offset: string }>();
  private restartAttempt = 0;
  private restartTimer?: NodeJS.Timeout;
  private stopped = false;
  private stopping?: Promise<void>;
  /** By `topic:partition`; sent together by `commitHandled`, at most `commitEveryMs` after the first. */
  private readonly uncommitted = new Map<string, Uncommitted>();
  private commitTimer?: NodeJS.Timeout;
  /** Commits one after the other: a later one never overtakes an earlier one's offsets. */
  private commits: Promise<void> = Promise.resolve();
  /** Batches being handled; `stop()` waits for them before it commits. */
  private batches = 0;
  private batchesEnded?: () => void;
  private readonly byKey = new Map<string, EventDelivery[]>();
  private readonly namespace: string;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaConsumerOptions,
  ) {
    this.logger = new Logger(`KafkaEventConsumer(${options.context})`);
    this.namespace = options.namespace ?? DEFAULT_KAFKA_NAMESPACE;
    this.deadLetters = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    for (const delivery of options.deliveries) {
      const list = this.byKey.get(delivery.eventKey) ?? [];
      list.push(delivery);
      this.byKey.set(delivery.eventKey, list);
    }
  }

  /** The topics of the producing contexts whose events this context handles. */
  topics(): string[] {
    return [...new Set([...this.byKey.keys()].map((key) => eventTopicOf(key.split('.')[0], this.namespace)))].sort();
  }

  /** The group this context consumes in: `<namespace>.<context>`. */
  get group(): string {
    return consumerGroupOf(this.options.context, this.namespace);
  }

  async start(): Promise<void> {
    await this.deadLetters.connect();
    await this.run();
  }

  /** Stops once: a second call waits for the first one's stop. */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    // Batches stop at their next record; what they handled is committed while the group is still
    // this member's (kafkajs commits nothing once it is stopping).
    if (this.batches > 0) await new Promise<void>((resolve) => (this.batchesEnded = resolve));
    if (this.consumer) await this.commitHandled(this.consumer);
    await this.consumer?.disconnect();
    await this.deadLetters.disconnect();
  }

  /** Consuming, or why not (a consumer kafkajs gave up on, until its successor joins the group). */
  health(): { up: boolean; detail: string } {
    if (this.down !== undefined) return { up: false, detail: this.down };
    const long = this.longRecord();
    return { up: true, detail: `up (group ${this.group})${long ? `; ${long}` : ''}` };
  }

  /** A new consumer in the group, subscribed and running. */
  private async run(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.group,
      allowAutoTopicCreation: false,
      // A member that died without leaving (SIGKILL) holds its partitions until its session
      // times out: 10 s rather than kafkajs's 30 s, so a restarted service resumes sooner.
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: HEARTBEAT_WHILE_HANDLING_MS,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (event: ConsumerCrashEvent) => this.crashed(consumer, event));
    // Offsets go while the partitions are still this member's. What is left when the member has
    // joined again is dropped: it may have been out of the group meanwhile, and an old offset
    // must not move another member's back (those records come again; the inbox takes each once).
    consumer.on(consumer.events.REBALANCING, () => void this.commitHandled(consumer));
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.forgetUncommitted();
      if (this.down !== undefined) this.logger.log(`consuming again (group ${this.group})`);
      this.down = undefined;
      this.restartAttempt = 0;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics(), fromBeginning: true });
    if (this.stopped) {
      // stop() came while this one was connecting: it must not run on behind the closed process
      await consumer.disconnect();
      return;
    }
    // A batch at a time per partition, in order: each record goes through the inbox, and the
    // offsets of what was processed are committed after the inbox transactions, for all partitions
    // together at most every `commitEveryMs`: each commit is a request the broker answers, and
    // one per batch (a batch is often one record) was half of what the shop asked of it (ADR
    // 0050). A failure that must see the record again (the database down) commits what came
    // before it at once and rethrows, so the partition resumes at that record; a record sent to
    // the dead-letter topic is committed at once too, before the next record, so that it is not
    // sent there twice. kafkajs heartbeats only between records: one that takes long (its retries,
    // a database slow to lend a connection) beats on a timer, or the broker would take the
    // partitions away mid-record and every member would take its turn at it.
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        this.batches += 1;
        let next: string | undefined;
        let committed: string | undefined;
        let now = false;
        const { topic, partition } = batch;
        try {
          for (const message of batch.messages) {
            if (this.stopped || !isRunning() || isStale()) break;
            const where = `${topic}[${partition}]`;
            this.inHand.set(where, { since: Date.now(), offset: message.offset });
            let told = false;
            const beating = setInterval(() => {
              void heartbeat().catch(() => undefined);
              const long = told ? undefined : this.longRecord(where);
              if (long) this.logger.warn({ group: this.group, topic, partition, offset: message.offset }, long);
              told ||= long !== undefined;
            }, HEARTBEAT_WHILE_HANDLING_MS);
            let outcome: 'dead-lettered' | undefined;
            try {
              outcome = await this.handle(topic, partition, message);
            } finally {
              clearInterval(beating);
              this.inHand.delete(where);
            }
            resolveOffset(message.offset);
            next = (BigInt(message.offset) + 1n).toString();
            if (outcome === 'dead-lettered' && !this.stopped) {
              this.uncommitted.set(`${topic}:${partition}`, { topic, partition, offset: next });
              await this.commitHandled(consumer);
              committed = next;
            }
            await heartbeat();
          }
        } catch (error) {
          now = true;
          throw error; // as it was: a failed commit below is logged, never put in its place
        } finally {
          if (next !== undefined && next !== committed) {
            this.uncommitted.set(`${topic}:${partition}`, { topic, partition, offset: next });
          }
          this.batchEnded();
          // Stopping: stop() commits once every batch has ended.
          if (!this.stopped) {
            if (now) await this.commitHandled(consumer);
            else this.commitSoon(consumer);
          }
        }
      },
    });
  }

  /** A record in hand past `longRecordMs` (of one partition, or of any), said in words. */
  private longRecord(of?: string): string | undefined {
    const limit = this.options.longRecordMs ?? 60_000;
    const now = Date.now();
    for (const [where, { since, offset }] of this.inHand) {
      if ((of === undefined || of === where) && now - since > limit) {
        return `one record in hand for ${Math.round((now - since) / 1_000)} s: ${where} offset ${offset}`;
      }
    }
    return undefined;
  }

  private batchEnded(): void {
    this.batches -= 1;
    if (this.batches === 0) {
      this.batchesEnded?.();
      this.batchesEnded = undefined;
    }
  }

  private forgetUncommitted(): void {
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    this.uncommitted.clear();
  }

  private commitSoon(consumer: Consumer): void {
    if (this.commitTimer || this.uncommitted.size === 0) return;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      void this.commitHandled(consumer);
    }, this.options.commitEveryMs ?? 250);
  }

  /**
   * Commits every partition's handled offset that is not committed yet, after the commits before
   * it. Never rejects: a commit that did not go (a rebalance, the broker away) is logged, and
   * those records may come again, which the inbox absorbs.
   */
  private commitHandled(consumer: Consumer): Promise<void> {
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    if (this.uncommitted.size === 0 || consumer !== this.consumer) return this.commits;
    const offsets = [...this.uncommitted.values()];
    this.uncommitted.clear();
    this.commits = this.commits.then(() =>
      consumer.commitOffsets(offsets).catch((error: unknown) => {
        this.logger.warn(
          { group: this.group, error: error instanceof Error ? error.message : String(error) },
          'offsets not committed; the records after the last commit may come again (the inbox takes each once)',
        );
      }),
    );
    return this.commits;
  }

  /** kafkajs restarts a consumer itself only when `restart` is true; otherwise it is stopped for good. */
  private crashed(consumer: Consumer, { payload }: ConsumerCrashEvent): void {
    if (this.stopped || consumer !== this.consumer) return;
    // kafkajs restarting it, or a new one: either joins the group again, and takes these again.
    this.forgetUncommitted();
    if (payload.restart) {
      this.logger.warn(
        { group: this.group, error: payload.error.message },
        'the consumer crashed; kafkajs restarts it',
      );
      return;
    }
    this.down = `stopped by kafkajs after ${payload.error.name}: ${payload.error.message}; starting a new consumer`;
    this.logger.error(
      { group: this.group, error: payload.error.message },
      'the consumer crashed and kafkajs gave up on it',
    );
    this.restartLater(consumer);
  }

  private restartLater(previous: Consumer): void {
    const delayMs = Math.min(1_000 * 2 ** this.restartAttempt, 30_000);
    this.restartAttempt += 1;
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      void previous
        .disconnect()
        .catch(() => undefined)
        .then(() => (this.stopped ? undefined : this.run()))
        .catch((error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          this.down = `could not start a new consumer: ${reason}; trying again`;
          this.logger.warn({ group: this.group, error: reason, attempt: this.restartAttempt }, 'restart failed');
          if (this.consumer) this.restartLater(this.consumer);
        });
    }, delayMs);
  }

  private async handle(topic: string, partition: number, message: KafkaMessage): Promise<'dead-lettered' | undefined> {
    const envelope = this.read(topic, message);
    if (typeof envelope === 'string') {
      await this.deadLetter({ topic, partition }, message, envelope, 'ficus:unreadable');
      return 'dead-lettered';
    }
    let sent: 'dead-lettered' | undefined;
    for (const delivery of this.deliveriesOf(envelope)) {
      let outcome: DeliveryOutcome | void;
      try {
        outcome = await delivery.deliver(envelope);
      } catch (error) {
        // What the record holds made even its dead letter fail (a value or nesting PostgreSQL
        // refuses): it would come again as it is, for ever, and hold up the partition behind it,
        // so it goes to the dead-letter topic, once, and the partition moves on. Anything else
        // (the database away, a failure not recognised) comes again: a record is never dropped
        // from the table of dead letters for a cause that may pass.
        if (!isContentFailure(error)) throw error;
        const reason = `failed, and its outcome could not be recorded: ${describe(error)}`;
        this.logger.error({ topic, offset: message.offset, consumer: delivery.consumer, err: error }, reason);
        outcome = { outcome: 'dead-lettered', reason };
      }
      if (outcome?.outcome === 'dead-lettered') {
        await this.deadLetter({ topic, partition }, message, outcome.reason, delivery.consumer);
        sent = 'dead-lettered';
      }
    }
    return sent;
  }

  /**
   * Who takes an envelope: the deliveries of its type and version. A version of a type this
   * context reads that none of its consumers reads (a producer rolled out ahead) goes to the
   * newest one's, which dead-letters it as poison with the reason (ADR 0004), to be replayed once
   * a consumer of that version runs: never dropped unseen.
   */
  private deliveriesOf(envelope: Envelope): readonly EventDelivery[] {
    const exact = this.byKey.get(`${envelope.type}.v${envelope.version}`);
    if (exact) return exact;
    const ofType = [...this.byKey.entries()]
      .filter(([key]) => key.slice(0, key.lastIndexOf('.v')) === envelope.type)
      .sort(([a], [b]) => versionOf(b) - versionOf(a));
    return ofType.length > 0 ? ofType[0][1].slice(0, 1) : [];
  }

  /**
   * The envelope, or why the record is not one of this topic's: not JSON, not an envelope, text
   * PostgreSQL cannot store, an event of another context than the topic's (each context writes
   * only its own topic: a record there of another's events is forged or misrouted), or headers
   * that say otherwise than its body.
   */
  private read(topic: string, message: KafkaMessage): Envelope | string {
    if (!message.value) return 'poison: the record has no value';
    let json: unknown;
    try {
      json = JSON.parse(message.value.toString('utf8'));
    } catch {
      return 'poison: the record value is not JSON';
    }
    const parsed = EnvelopeSchema.safeParse(json);
    if (!parsed.success) return `poison: not an envelope: ${issuesOf(parsed.error.issues)}`;
    const envelope = parsed.data as Envelope;
    const illFormed = illFormedTextIn(json, 'record');
    if (illFormed !== undefined) return `poison: ${illFormed} holds a NUL or an unpaired surrogate`;
    const producer = envelope.type.split('.')[0];
    if (eventTopicOf(producer, this.namespace) !== topic) {
      return `poison: ${bounded(envelope.type, 80)} is not an event of ${topic}`;
    }
    const claims: Array<[string, string]> = [
      [HEADERS.messageId, envelope.id],
      [HEADERS.type, envelope.type],
      [HEADERS.version, String(envelope.version)],
    ];
    for (const [header, body] of claims) {
      const value = message.headers?.[header];
      if (value === undefined) continue;
      const said = Array.isArray(value) ? value.map(String) : [String(value)];
      if (said.some((one) => one !== body)) return `poison: its ${header} header says otherwise than its body`;
    }
    return envelope;
  }

  /**
   * The record to the context's dead-letter topic, with the reason in headers. A record too large
   * for the topic with those headers goes without its value (its topic, partition and offset say
   * where it is): a dead letter must not fail on what the record holds, or the partition would
   * wait behind it for ever. A failure the broker may get over (it is away) is thrown, and the
   * record comes again.
   */
  private async deadLetter(
    { topic, partition }: { topic: string; partition: number },
    message: KafkaMessage,
    reason: string,
    consumer: string,
  ): Promise<void> {
    const why = bounded(reason);
    this.logger.warn({ topic, offset: message.offset, reason: why }, 'record sent to the dead-letter topic');
    const headers: Record<string, string | Buffer> = {};
    for (const [key, value] of Object.entries(message.headers ?? {})) {
      if (typeof value === 'string' || Buffer.isBuffer(value)) headers[key] = value;
    }
    headers[HEADERS.deadLetterReason] = why;
    headers[HEADERS.deadLetterConsumer] = consumer;
    headers[HEADERS.originalTopic] = topic;
    headers[HEADERS.originalPartition] = String(partition);
    headers[HEADERS.originalOffset] = message.offset;
    const to = deadLetterTopicOf(this.options.context, this.namespace);
    try {
      await this.deadLetters.send({
        topic: to,
        acks: -1,
        messages: [{ key: message.key, value: message.value, headers }],
      });
    } catch (error) {
      if (!refusedForWhatItHolds(error)) throw error;
      this.logger.warn(
        { topic, offset: message.offset, err: error },
        'dead letter refused; sent again without its value',
      );
      const pointer: Record<string, string> = {
        [HEADERS.deadLetterReason]: why,
        [HEADERS.deadLetterConsumer]: consumer,
        [HEADERS.originalTopic]: topic,
        [HEADERS.originalPartition]: String(partition),
        [HEADERS.originalOffset]: message.offset,
        [HEADERS.deadLetterValue]: bounded(`not kept: ${describe(error)}`),
      };
      await this.deadLetters.send({
        topic: to,
        acks: -1,
        messages: [{ key: message.key, value: null, headers: pointer }],
      });
    }
  }
}

/** The broker's answers that refuse a record for its size or content: sending it again never goes. */
const REFUSED_FOR_CONTENT = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

function refusedForWhatItHolds(error: unknown): boolean {
  let cause = error;
  for (let depth = 0; depth < 5 && typeof cause === 'object' && cause !== null; depth++) {
    if (REFUSED_FOR_CONTENT.has(String((cause as { type?: unknown }).type))) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

function versionOf(eventKey: string): number {
  return Number(eventKey.slice(eventKey.lastIndexOf('.v') + 2));
}
