import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Fields every log line written inside a scope carries, besides the trace ids: what the work is
 * about (`<type>_id` of the aggregate its contract method or event declares: `order_id`,
 * `product_id`, `customer_id`) and which module does it (`module`). Set where a piece of work
 * starts (a contract call served, an event delivered); read by the pino mixin (logger-options.ts).
 */
export interface LogFields {
  readonly module?: string;
  /** The aggregate the work is about: `order_id`, `product_id`, … */
  readonly [aggregateId: `${string}_id`]: string | undefined;
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
