import { Metadata } from '@grpc/grpc-js';
import { CallerSchema, DEFAULT_CALL_BUDGET_MS, type CallContext } from '@contracts/kernel';

/** The call context as gRPC metadata; the deadline travels as gRPC's own deadline. */
export function metadataOf(ctx: CallContext): Metadata {
  const metadata = new Metadata();
  metadata.set('x-correlation-id', ctx.correlationId);
  if (ctx.causationId) metadata.set('x-causation-id', ctx.causationId);
  if (ctx.requestId) metadata.set('x-request-id', ctx.requestId);
  if (ctx.traceparent) metadata.set('traceparent', ctx.traceparent);
  if (ctx.caller) metadata.set('x-ficus-caller', JSON.stringify(ctx.caller));
  return metadata;
}

function text(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The serving side's call context: the caller's deadline (gRPC's, never later), its story ids,
 * its end user. A call without a deadline gets the default budget, so nothing waits forever.
 */
export function contextOf(metadata: Metadata, deadline: Date | number, now = Date.now()): CallContext {
  const given = deadline instanceof Date ? deadline.getTime() : deadline;
  const callerText = text(metadata, 'x-ficus-caller');
  let caller: CallContext['caller'];
  if (callerText) {
    try {
      const parsed = CallerSchema.safeParse(JSON.parse(callerText));
      caller = parsed.success ? parsed.data : undefined;
    } catch {
      caller = undefined; // not JSON: no caller, as if none was sent
    }
  }
  return {
    deadline: Number.isFinite(given) ? given : now + DEFAULT_CALL_BUDGET_MS,
    correlationId: text(metadata, 'x-correlation-id') ?? `grpc-${now}`,
    causationId: text(metadata, 'x-causation-id'),
    requestId: text(metadata, 'x-request-id'),
    traceparent: text(metadata, 'traceparent'),
    caller,
  };
}
