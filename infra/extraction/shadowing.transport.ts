import { Logger } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { ContractError, type CallContext, type Contract } from '@contracts/kernel';
import type { ContractTransport } from '@infra/messaging';
import { shadowComparisons } from '@infra/observability';
import type { ShadowStore } from './shadow-store';

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
  /** Shadow calls in flight at most; past it a call is not shadowed (the in-process answer never waits). */
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
    const shadowed = this.options.enabled() && isShadowable(contract, method) && this.inFlight < (this.options.maxInFlight ?? 32);
    if (!shadowed) return this.primary.unary(contract, method, ctx, request);
    const asked = Date.now();
    const primary = await settle(this.primary.unary(contract, method, ctx, request));
    this.inFlight += 1;
    // The same budget the caller gave, counted from now: a slow extracted copy cannot hold this process.
    const shadowCtx: CallContext = { ...ctx, deadline: Date.now() + Math.max(100, ctx.deadline - asked) };
    void settle(this.shadow.unary(contract, method, shadowCtx, request))
      .then((extracted) => this.options.recorder.compare(this.options.context, `${contract.name}/${method}`, request, primary, extracted))
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

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

function settle(promise: Promise<unknown>): Promise<Settled> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function failureOf(error: unknown): { kind: string; code: string } {
  return error instanceof ContractError ? { kind: error.kind, code: error.code } : { kind: 'internal', code: 'internal-error' };
}

/**
 * Counts comparisons in memory and writes them to the store once a second (one upsert per
 * context and minute), mismatches one by one with both answers. Also a Prometheus counter.
 */
export class ShadowRecorder {
  private readonly logger = new Logger('Shadow');
  private pending = new Map<string, { matches: number; mismatches: number; errors: number }>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly store: ShadowStore, flushEveryMs = 1_000) {
    this.timer = setInterval(() => void this.flush(), flushEveryMs);
    this.timer.unref();
  }

  compare(context: string, call: string, request: unknown, inProcess: Settled, extracted: Settled): void {
    let outcome: 'match' | 'mismatch' | 'error';
    if (inProcess.ok && extracted.ok) {
      outcome = isDeepStrictEqual(normalized(inProcess.value), normalized(extracted.value)) ? 'match' : 'mismatch';
    } else if (!inProcess.ok && !extracted.ok) {
      outcome = isDeepStrictEqual(failureOf(inProcess.error), failureOf(extracted.error)) ? 'match' : 'mismatch';
    } else {
      outcome = extracted.ok ? 'mismatch' : 'error';
    }
    shadowComparisons.inc({ context, outcome });
    const counts = this.pending.get(context) ?? { matches: 0, mismatches: 0, errors: 0 };
    if (outcome === 'match') counts.matches += 1;
    else if (outcome === 'mismatch') counts.mismatches += 1;
    else counts.errors += 1;
    this.pending.set(context, counts);
    if (outcome === 'mismatch') {
      const answer = (settled: Settled) => (settled.ok ? settled.value : { error: failureOf(settled.error) });
      this.store
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
        await this.store.add(context, minute, counts).catch((error: unknown) => this.logger.warn({ err: error, context }, 'could not record shadow results'));
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/** Answers compared as they would travel: JSON, so a Date and its ISO text, or undefined and absent, are one. */
function normalized(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}
