import { Logger } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { ContractError, type CallContext, type Contract } from '@contracts/kernel';
import type { ContractTransport } from '@infra/messaging';
import { shadowComparisons } from '@infra/observability';
import type { ShadowStore } from './shadow-store';

export type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Which calls are shadowed: reads only. A contract marks a method `idempotent`, which a command
 * with a key can be too, so the name must also say it reads; a write is never sent twice.
 */
const READ_METHOD = /^(get|list|check|find|search)[A-Z]/;

export function isShadowable(contract: Contract, method: string): boolean {
  const definition = contract.methods[method];
  return definition?.kind === 'unary' && definition.idempotent && READ_METHOD.test(method);
}

export interface ShadowingOptions {
  readonly context: string;
  /** Read at every call: the `shadow.<context>` flag. */
  readonly enabled: () => boolean;
  readonly recorder: ShadowRecorder;
  /** Shadowed calls in flight at most (from the in-process call to the comparison); past it a call is not shadowed. */
  readonly maxInFlight?: number;
}

/**
 * While a context is served in-process, also asks the extracted service the same reads, compares
 * the answers and records the result — never delaying or changing the caller's answer, which is
 * always the in-process one. Both failing with the same kind and code is a match; the extracted
 * copy failing alone is an error; answering differently is a mismatch, kept with both answers.
 */
export class ShadowingContractTransport implements ContractTransport {
  readonly kind: string;
  private inFlight = 0;

  constructor(
    private readonly primary: ContractTransport,
    private readonly shadow: ContractTransport,
    private readonly options: ShadowingOptions,
  ) {
    this.kind = primary.kind;
  }

  async unary(contract: Contract, method: string, ctx: CallContext, request: unknown): Promise<unknown> {
    const shadowed =
      this.options.enabled() && isShadowable(contract, method) && this.inFlight < (this.options.maxInFlight ?? 32);
    if (!shadowed) return this.primary.unary(contract, method, ctx, request);
    this.inFlight += 1; // the slot is taken now, so a burst cannot pass the check all at once
    const asked = Date.now();
    const primary = await settle(this.primary.unary(contract, method, ctx, request));
    // A caller that left while the in-process half ran leaves nothing to compare (that half was
    // cut short); once asked, the extracted copy's half is this process's own, which the caller's
    // leaving must not cut short and count as the copy's error: it goes without the signal.
    const { signal: callerSignal, ...compared } = ctx;
    if (callerSignal?.aborted) {
      this.inFlight -= 1;
      if (primary.ok) return primary.value;
      throw primary.error;
    }
    // The same budget the caller gave, counted from now: a slow extracted copy cannot hold this process.
    const shadowCtx: CallContext = { ...compared, deadline: Date.now() + Math.max(100, ctx.deadline - asked) };
    // Asked again in-process when the answers differ: if that answer moved too, the data changed
    // between the two reads (a reservation, say) and the difference proves nothing.
    const askAgain = () =>
      settle(
        this.primary.unary(
          contract,
          method,
          { ...compared, deadline: Date.now() + Math.max(100, ctx.deadline - asked) },
          request,
        ),
      );
    void settle(this.shadow.unary(contract, method, shadowCtx, request))
      .then((extracted) =>
        this.options.recorder.compare({
          context: this.options.context,
          call: `${contract.name}/${method}`,
          request,
          inProcess: primary,
          extracted,
          askAgain,
        }),
      )
      .finally(() => {
        this.inFlight -= 1;
      });
    if (primary.ok) return primary.value;
    throw primary.error;
  }

  serverStream(contract: Contract, method: string, ctx: CallContext, request: unknown): AsyncIterable<unknown> {
    return this.primary.serverStream(contract, method, ctx, request);
  }
}

/** One call answered in-process and by the extracted copy, to compare. */
export interface Comparison {
  readonly context: string;
  /** `<contract>/<method>`. */
  readonly call: string;
  readonly request: unknown;
  readonly inProcess: Settled;
  readonly extracted: Settled;
  /** Asks the in-process side again, to tell a real difference from data that moved between the reads. */
  readonly askAgain?: () => Promise<Settled>;
}

function settle(promise: Promise<unknown>): Promise<Settled> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Same answer (or the same failure): a match; the extracted copy failing alone: an error; else a mismatch. */
function outcomeOf(inProcess: Settled, extracted: Settled): 'match' | 'mismatch' | 'error' {
  if (inProcess.ok && extracted.ok)
    return isDeepStrictEqual(normalized(inProcess.value), normalized(extracted.value)) ? 'match' : 'mismatch';
  if (!inProcess.ok && !extracted.ok)
    return isDeepStrictEqual(failureOf(inProcess.error), failureOf(extracted.error)) ? 'match' : 'mismatch';
  return extracted.ok ? 'mismatch' : 'error';
}

function failureOf(error: unknown): { kind: string; code: string } {
  return error instanceof ContractError
    ? { kind: error.kind, code: error.code }
    : { kind: 'internal', code: 'internal-error' };
}

/**
 * Counts comparisons in memory and writes them to the store once a second (one upsert per
 * context and minute), mismatches one by one with both answers. Also a Prometheus counter.
 */
export class ShadowRecorder {
  private readonly logger = new Logger('Shadow');
  private pending = new Map<string, { matches: number; mismatches: number; errors: number; inconclusive: number }>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private readonly comparing = new Set<Promise<void>>();

  constructor(
    private readonly store: ShadowStore,
    flushEveryMs = 1_000,
  ) {
    this.timer = setInterval(() => void this.flush(), flushEveryMs);
    this.timer.unref();
  }

  /**
   * Counts one comparison. A difference is checked once more against a fresh in-process answer
   * (`askAgain`): when that one differs from the first, the data moved between the reads and the
   * comparison is inconclusive, not a mismatch.
   */
  compare(comparison: Comparison): Promise<void> {
    const comparing = this.compareNow(comparison);
    this.comparing.add(comparing);
    return comparing.finally(() => this.comparing.delete(comparing));
  }

  private async compareNow({ context, call, request, inProcess, extracted, askAgain }: Comparison): Promise<void> {
    let outcome: 'match' | 'mismatch' | 'error' | 'inconclusive' = outcomeOf(inProcess, extracted);
    if (outcome === 'mismatch' && askAgain) {
      const again = await askAgain();
      if (outcomeOf(inProcess, again) !== 'match') outcome = 'inconclusive';
    }
    shadowComparisons.inc({ context, outcome });
    const counts = this.pending.get(context) ?? { matches: 0, mismatches: 0, errors: 0, inconclusive: 0 };
    const key = ({ match: 'matches', mismatch: 'mismatches', error: 'errors', inconclusive: 'inconclusive' } as const)[
      outcome
    ];
    counts[key] += 1;
    this.pending.set(context, counts);
    if (outcome === 'mismatch') {
      const answer = (settled: Settled) => (settled.ok ? settled.value : { error: failureOf(settled.error) });
      await this.store
        .recordMismatch({ context, call, request, inProcess: answer(inProcess), extracted: answer(extracted) })
        .catch((error: unknown) => this.logger.warn({ err: error, context }, 'could not record a shadow mismatch'));
    }
  }

  /** Writes what was counted since the last flush. */
  flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    this.flushing = this.flushing.then(async () => {
      for (const [context, counts] of batch) {
        await this.store
          .add(context, minute, counts)
          .catch((error: unknown) => this.logger.warn({ err: error, context }, 'could not record shadow results'));
      }
    });
    return this.flushing;
  }

  /** Waits for the comparisons under way, then writes what they counted. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.comparing]);
    await this.flush();
  }
}

/** Answers compared as they would travel: JSON, so a Date and its ISO text, or undefined and absent, are one. */
function normalized(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}
