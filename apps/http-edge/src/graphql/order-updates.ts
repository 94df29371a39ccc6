import { setTimeout as pause } from 'node:timers/promises';
import { GraphQLError } from 'graphql';
import { isContractError } from '@contracts/kernel';
import type { OrderingApi, OrderStatus, OrderView } from '@contracts/ordering';
import type { SubgraphContext } from '@infra/graphql';
import { ownedOrder } from '../routes/owned-order';

/**
 * How often an open order is read again while a stream watches it: soon after it changed (a
 * saga's steps come in bursts, tens of milliseconds apart), then half as often each time nothing
 * did, down to once a second.
 */
export const ORDER_POLLING = { firstMs: 25, maxMs: 1_000 } as const;

/** An event of `orderUpdated`: the order, its lines as the subgraph names them, and its saga's steps then. */
export type OrderUpdate = OrderView & {
  readonly lines: OrderView['items'];
  readonly timeline: ReadonlyArray<{ step: string; at: string }>;
};

/** An order in one of these has no step left: its stream completes. */
const SETTLED: ReadonlySet<OrderStatus> = new Set(['CONFIRMED', 'FAILED']);

/** A stream that reached its end before its order settled: its last event says so. */
function streamExpired(): GraphQLError {
  return new GraphQLError('the stream reached its longest life or its access token expired; subscribe again', {
    extensions: { code: 'stream-expired', status: 408 },
  });
}

/**
 * The events of `orderUpdated`: the order as it stands, at once, then each time its saga has
 * moved (its version is the number of its events), until it settles; each with the saga's steps
 * of that version, in the order they happened (each update's steps hold the last one's and more;
 * steps recorded between two looks come in one update). The order is read through
 * ordering's contract, as any other query: in-process in the monolith, by gRPC in split, the
 * owner rule checked on every read. Polling, not a push from ordering's events: ADR 0045 says why
 * and what it costs.
 *
 * A read that fails for a moment (the context is unavailable or slow) is tried again at the next
 * look; any other error ends the stream with it. The stream stops when its caller goes away (the
 * context's signal), when the process stops (the signal's reason, `shutting-down`, is its last
 * event), and at `stream.until` (its longest life, or its access token's expiry) with a
 * `stream-expired` error.
 */
export async function* orderUpdates(
  ordering: OrderingApi,
  context: SubgraphContext,
  orderId: string,
  polling: { readonly firstMs: number; readonly maxMs: number } = ORDER_POLLING,
): AsyncGenerator<OrderUpdate> {
  const { ctx } = context;
  const until = context.stream?.until ?? ctx.deadline;
  let version = -1;
  let waitMs = polling.firstMs;
  for (;;) {
    const update = await readUpdate(ordering, context, orderId, version === -1).catch((error: unknown) => {
      // A read cut short by the stop says so, not as the read's own `cancelled`.
      if (ctx.signal?.reason instanceof GraphQLError) throw ctx.signal.reason;
      // A context that cannot answer for a moment ends no stream: the next look may find it.
      if (isContractError(error) && error.retryable && version !== -1) return undefined;
      throw error;
    });
    if (update && update.version !== version) {
      version = update.version;
      waitMs = polling.firstMs;
      yield update;
      if (SETTLED.has(update.status)) return;
    } else {
      waitMs = Math.min(waitMs * 2, polling.maxMs);
    }
    const left = until - Date.now();
    if (left <= 0) throw streamExpired();
    try {
      await pause(Math.min(waitMs, left), undefined, { signal: ctx.signal });
    } catch {
      const reason: unknown = ctx.signal?.reason;
      if (reason instanceof GraphQLError) throw reason; // the process is stopping: say so
      return; // the client went away: nobody is left to tell
    }
  }
}

/**
 * The order and the saga's steps of that same version; undefined when a step came between the
 * two reads (the next look has both). The first read checks the owner rule, as `order(id)` does.
 */
async function readUpdate(
  ordering: OrderingApi,
  { ctx }: SubgraphContext,
  orderId: string,
  first: boolean,
): Promise<OrderUpdate | undefined> {
  const order = first ? await ownedOrder(ordering, ctx, orderId) : await ordering.getOrder(ctx, { orderId });
  const { steps } = await ordering.getTimeline(ctx, { orderId });
  return steps.length === order.version ? { ...order, lines: order.items, timeline: steps } : undefined;
}
