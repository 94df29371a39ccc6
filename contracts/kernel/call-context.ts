import { z } from 'zod';
import type { CallingService } from './method-access';

/**
 * What travels with every contract call, first argument of every method: who calls, on behalf of
 * whom, until when, and as part of which story. Plain data, so it crosses a process as metadata;
 * its one exception, the abort signal, crosses as gRPC's own cancellation.
 */
export const CallerSchema = z.object({
  subject: z.string().min(1),
  roles: z.array(z.string()),
});
export type Caller = z.infer<typeof CallerSchema>;

export interface CallContext {
  /** Epoch milliseconds after which the caller no longer waits for an answer. */
  readonly deadline: number;
  readonly correlationId: string;
  readonly causationId?: string;
  /** W3C trace context of the calling span. */
  readonly traceparent?: string;
  /** The end user on whose behalf the call is made, when there is one. */
  readonly caller?: Caller;
  /**
   * The end user's access token as the edge received it, relayed with calls to other processes:
   * a service there verifies it against identity's keys and takes the caller from it, never from
   * plain metadata. Never logged.
   */
  readonly credential?: string;
  /**
   * The service making this call: stamped by the contract client of the calling module (or the
   * edge, or the operator's command), and behind gRPC taken only when the caller's certificate
   * names a process that hosts it. Never set by hand: a module's client overwrites it.
   */
  readonly service?: CallingService;
  readonly requestId?: string;
  /**
   * Aborts when the caller no longer wants the answer: the HTTP client went away, the gRPC caller
   * cancelled. Transports then stop waiting and start nothing more for the call; a step already
   * under way (a transaction) ends as it would have, and what committed stays committed. Never
   * written into metadata: gRPC carries it as the call's cancellation.
   */
  readonly signal?: AbortSignal;
}

export const DEFAULT_CALL_BUDGET_MS = 5_000;

export function remainingMs(ctx: CallContext, now = Date.now()): number {
  return ctx.deadline - now;
}

/**
 * A context for a call that a sub-step of `parent` makes: same story, a deadline never later, and
 * aborted whenever the parent is (a signal of its own is added to the parent's, never swapped for it).
 */
export function childContext(parent: CallContext, overrides: Partial<CallContext> = {}): CallContext {
  const deadline = Math.min(parent.deadline, overrides.deadline ?? parent.deadline);
  const own = overrides.signal;
  const signal =
    own && parent.signal && own !== parent.signal ? AbortSignal.any([parent.signal, own]) : (own ?? parent.signal);
  return { ...parent, ...overrides, deadline, signal };
}
