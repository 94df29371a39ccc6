import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Fields every log line written inside a scope carries, besides the trace ids: what the work is
 * about (`order_id`) and which module does it (`module`). Set where a piece of work starts (a
 * contract call served, an event delivered); read by the pino mixin (logger-options.ts).
 */
export interface LogFields {
  readonly module?: string;
  readonly order_id?: string;
  /** The work's trace, when no span is recorded to read it from (tracing.ts, `propagate` mode). */
  readonly trace_id?: string;
  readonly span_id?: string;
}

const scope = new AsyncLocalStorage<LogFields>();

export function withLogFields<T>(fields: LogFields, work: () => T): T {
  return scope.run({ ...scope.getStore(), ...fields }, work);
}

export function currentLogFields(): LogFields {
  return scope.getStore() ?? {};
}

/** The order a message or a request is about, when it names one. */
export function orderIdIn(value: unknown): string | undefined {
  const orderId = (value as { orderId?: unknown } | null | undefined)?.orderId;
  return typeof orderId === 'string' ? orderId : undefined;
}
