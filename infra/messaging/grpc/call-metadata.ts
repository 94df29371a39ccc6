import { Metadata } from '@grpc/grpc-js';
import { BOUNDED_CONTEXTS, DEFAULT_CALL_BUDGET_MS, type CallContext, type CallingService } from '@contracts/kernel';

/**
 * The call context as gRPC metadata; the deadline travels as gRPC's own deadline. The end user
 * travels as the access token the edge received (`authorization`), which the serving side
 * verifies: a caller written into metadata as plain data could be forged by any process.
 */
export function metadataOf(ctx: CallContext): Metadata {
  const metadata = new Metadata();
  metadata.set('x-correlation-id', ctx.correlationId);
  if (ctx.causationId) metadata.set('x-causation-id', ctx.causationId);
  if (ctx.requestId) metadata.set('x-request-id', ctx.requestId);
  if (ctx.traceparent) metadata.set('traceparent', ctx.traceparent);
  if (ctx.credential) metadata.set('authorization', `Bearer ${ctx.credential}`);
  if (ctx.service) metadata.set('x-ficus-service', ctx.service);
  return metadata;
}

const CALLING_SERVICES: ReadonlySet<string> = new Set<CallingService>([...BOUNDED_CONTEXTS, 'edge', 'operator']);

/**
 * The service the caller says it calls as: a claim only, which the server takes when the caller's
 * certificate names a process hosting that service (GrpcContractServer). Not part of `contextOf`,
 * so no code path can take it unchecked.
 */
export function claimedServiceOf(metadata: Metadata): CallingService | undefined {
  const claimed = text(metadata, 'x-ficus-service');
  return claimed !== undefined && CALLING_SERVICES.has(claimed) ? (claimed as CallingService) : undefined;
}

function text(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The serving side's call context: the caller's deadline (gRPC's, never later), its story ids,
 * the end user's token still to be verified (the server sets `caller` once it is). A call without
 * a deadline gets the default budget, so nothing waits forever.
 */
export function contextOf(metadata: Metadata, deadline: Date | number, now = Date.now()): CallContext {
  const given = deadline instanceof Date ? deadline.getTime() : deadline;
  return {
    deadline: Number.isFinite(given) ? Math.min(given, now + MAX_CALL_BUDGET_MS) : now + DEFAULT_CALL_BUDGET_MS,
    correlationId: storyId(metadata, 'x-correlation-id') ?? `grpc-${now}`,
    causationId: storyId(metadata, 'x-causation-id'),
    requestId: storyId(metadata, 'x-request-id'),
    traceparent: TRACEPARENT.exec(text(metadata, 'traceparent') ?? '')?.[0],
    credential: /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(text(metadata, 'authorization') ?? '')?.[1],
  };
}

/**
 * The latest deadline a call from another process keeps: the edge's longest request budget
 * (FICUS_REQUEST_BUDGET_MS at its maximum). grpc-js passes on a deadline weeks away, and the call's
 * work, its timers and the idempotency claims it takes would be held that long.
 */
export const MAX_CALL_BUDGET_MS = 600_000;

/**
 * Ids of a call's story (correlation, causation, request) as ficus makes them: request ids as the
 * edge takes them, UUIDs, `grpc-<time>`. They reach log lines, outbox rows and Kafka headers, so
 * anything else a caller sends (64 kB of it, control characters) is not taken.
 */
const STORY_ID = /^[A-Za-z0-9._:-]{1,200}$/;
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

function storyId(metadata: Metadata, key: string): string | undefined {
  const value = text(metadata, key);
  return value !== undefined && STORY_ID.test(value) ? value : undefined;
}
