import { DEAD_LETTER_ID, type DeadLetterView } from '@infra/messaging';
import type { MetricSample } from '@infra/observability';
import type { DeployTarget, Topology } from '@infra/topology';
import { operationsUrlOf } from '../commands/status.command';

/** A context's outbox and dead letters, from the metrics of the process that runs it. */
export interface ContextMessaging {
  readonly context: string;
  readonly runsIn: string;
  /** Unset when that process did not answer. */
  readonly outbox?: { readonly backlog: number; readonly oldestSeconds: number };
  readonly deadLetters?: number;
}

/** One consumer of a context's events, in the process that runs it, since that process started. */
export interface ConsumerMessaging {
  readonly consumer: string;
  readonly target: string;
  /** Events it started on, and how old they were then on average (commit to handler). */
  readonly handled: number;
  readonly meanAgeMs?: number;
  /** Handlings by outcome (processed, duplicate, dead-lettered, failed: retried later). */
  readonly outcomes: Readonly<Record<string, number>>;
}

/** A Kafka consumer group's lag on one topic (split mode: in one process events go to consumers straight). */
export interface GroupLag {
  readonly target: string;
  readonly group: string;
  readonly topic: string;
  readonly lag: number;
}

/** A dead letter as the process that keeps it listed it, with that process's target, its payload for its envelope. */
export type ConsoleDeadLetter = Omit<DeadLetterView, 'envelope'> & {
  readonly target: string;
  readonly payload: unknown;
};

export interface Messaging {
  readonly contexts: readonly ContextMessaging[];
  readonly consumers: readonly ConsumerMessaging[];
  readonly lag: readonly GroupLag[];
  readonly deadLetters: {
    readonly waiting: readonly ConsoleDeadLetter[];
    readonly replayed: readonly ConsoleDeadLetter[];
    /** Processes whose dead letters could not be read now, and why. */
    readonly unread: ReadonlyArray<{ readonly target: string; readonly why: string }>;
  };
}

/** What a process's operations port answered, as the console passes it on (a problem's status and body). */
export interface ProcessAnswer {
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
  readonly retryAfter?: string;
}

/**
 * The Messaging page's reading: outbox backlog and oldest unsent age per context, each consumer's
 * events and their age, consumer lag per group (split), and the dead letters of every process,
 * read from the process that keeps them (its operations port's /dead-letters, as the admin: the
 * console relays their token, the process checks it). A replay goes to the process that consumes
 * the context's events: only its handlers can take the letter.
 */
export class MessagingDesk {
  constructor(private readonly topology: Topology) {}

  async read(samplesOf: ReadonlyMap<string, readonly MetricSample[]>, token: string): Promise<Messaging> {
    const contexts = this.topology.modules.map((context): ContextMessaging => {
      const runsIn = this.topology.targetOf(context).name;
      const samples = samplesOf.get(runsIn);
      if (!samples) return { context, runsIn };
      const of = (name: string) => samples.find((s) => s.name === name && s.labels.context === context)?.value ?? 0;
      return {
        context,
        runsIn,
        outbox: { backlog: of('ficus_outbox_backlog'), oldestSeconds: of('ficus_outbox_oldest_age_seconds') },
        deadLetters: of('ficus_dead_letters'),
      };
    });
    const consumers: ConsumerMessaging[] = [];
    const lag: GroupLag[] = [];
    for (const [target, samples] of samplesOf) {
      consumers.push(...consumersOf(target, samples));
      for (const { name, labels, value } of samples) {
        if (name === 'ficus_consumer_lag') lag.push({ target, group: labels.group, topic: labels.topic, lag: value });
      }
    }
    return { contexts, consumers, lag, deadLetters: await this.deadLetters(token) };
  }

  /** `POST /dead-letters/<context>[/<id>]/replay` on the process that consumes `context`'s events. */
  replay(context: string, id: string | undefined, token: string): Promise<ProcessAnswer> {
    const target = this.topology.targetOf(context);
    const path = id === undefined ? `${context}/replay` : `${context}/${id}/replay`;
    return ask(target, `/dead-letters/${path}`, token, 'POST');
  }

  /** Every process that hosts contexts, once per operations address (two targets of one process answer alike). */
  private async deadLetters(token: string): Promise<Messaging['deadLetters']> {
    const hosts = new Map<string, DeployTarget>();
    for (const target of this.topology.targets) {
      if (target.modules.length > 0 && !hosts.has(operationsUrlOf(target))) hosts.set(operationsUrlOf(target), target);
    }
    const answers = await Promise.all(
      [...hosts.values()].map(async (target) => ({ target, answer: await ask(target, '/dead-letters', token, 'GET') })),
    );
    const waiting: ConsoleDeadLetter[] = [];
    const replayed: ConsoleDeadLetter[] = [];
    const unread: Array<{ target: string; why: string }> = [];
    for (const { target, answer } of answers) {
      const { items, replayed: done } = (answer.body ?? {}) as { items?: unknown; replayed?: unknown };
      if (answer.status !== 200 || !Array.isArray(items) || !Array.isArray(done)) {
        unread.push({ target: target.name, why: whyNot(answer) });
        continue;
      }
      waiting.push(...items.flatMap((item) => letterOf(target.name, item)));
      replayed.push(...done.flatMap((item) => letterOf(target.name, item)));
    }
    return { waiting, replayed, unread };
  }
}

/** A request to a process's operations port as the admin; a process that does not answer is a 502. */
async function ask(target: DeployTarget, path: string, token: string, method: 'GET' | 'POST'): Promise<ProcessAnswer> {
  try {
    const answer = await fetch(`${operationsUrlOf(target)}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      redirect: 'error',
      // A replay of every letter of a context runs each through its handler: it may take a while.
      signal: AbortSignal.timeout(method === 'POST' ? 60_000 : 5_000),
    });
    const body = (await answer.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    const retryAfter = answer.headers.get('retry-after') ?? undefined;
    return { status: answer.status, body: body && typeof body === 'object' ? body : undefined, retryAfter };
  } catch (error) {
    if ((error as { name?: unknown }).name === 'TimeoutError') {
      const detail =
        method === 'POST'
          ? `${target.name} did not answer in time: the replay may still be running there; read the list again`
          : `${target.name} did not answer in time`;
      return { status: 504, body: { code: 'process-timeout', detail } };
    }
    return {
      status: 502,
      body: { code: 'process-unreachable', detail: `${target.name} does not answer on its operations port` },
    };
  }
}

function whyNot(answer: ProcessAnswer): string {
  const detail = typeof answer.body?.detail === 'string' ? answer.body.detail.slice(0, 300) : undefined;
  return detail ?? `it answered ${answer.status}`;
}

/** A listed dead letter, checked field by field (a process's answer is not trusted to be well formed). */
function letterOf(target: string, value: unknown): ConsoleDeadLetter[] {
  const item = value as Record<string, unknown> | null;
  const text = (key: string) => (typeof item?.[key] === 'string' ? (item[key] as string) : undefined);
  const id = text('id');
  const context = text('context');
  if (!item || !id || !DEAD_LETTER_ID.test(id) || !context) return [];
  const envelope = item.envelope as { payload?: unknown } | null | undefined;
  return [
    {
      target,
      id,
      context,
      consumer: text('consumer') ?? '',
      type: text('type') ?? '',
      version: typeof item.version === 'number' ? item.version : 0,
      reason: (text('reason') ?? '').slice(0, 2_000),
      attempts: typeof item.attempts === 'number' ? item.attempts : 0,
      failedAt: text('failedAt') ?? '',
      replayedAt: text('replayedAt') ?? null,
      replayedBy: text('replayedBy') ?? null,
      messageId: text('messageId') ?? '',
      payload: envelope?.payload ?? null,
    },
  ];
}

/** Each consumer's events and their mean age (ficus_event_age_seconds) and outcomes (ficus_event_handling_seconds). */
function consumersOf(target: string, samples: readonly MetricSample[]): ConsumerMessaging[] {
  const byConsumer = new Map<string, { handled: number; ageSum: number; outcomes: Record<string, number> }>();
  const entry = (consumer: string) => {
    let found = byConsumer.get(consumer);
    if (!found) byConsumer.set(consumer, (found = { handled: 0, ageSum: 0, outcomes: {} }));
    return found;
  };
  for (const { name, labels, value } of samples) {
    if (!labels.consumer) continue;
    if (name === 'ficus_event_age_seconds_count') entry(labels.consumer).handled += value;
    else if (name === 'ficus_event_age_seconds_sum') entry(labels.consumer).ageSum += value;
    else if (name === 'ficus_event_handling_seconds_count' && labels.outcome) {
      const outcomes = entry(labels.consumer).outcomes;
      outcomes[labels.outcome] = (outcomes[labels.outcome] ?? 0) + value;
    }
  }
  return [...byConsumer].map(([consumer, { handled, ageSum, outcomes }]) => ({
    consumer,
    target,
    handled,
    ...(handled > 0 ? { meanAgeMs: Math.round((ageSum / handled) * 10_000) / 10 } : {}),
    outcomes,
  }));
}
