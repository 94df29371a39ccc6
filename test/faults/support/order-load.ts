import type { ShopClient } from '../../support/http-client';

/** A stream of POST /orders from one customer, with what the client was answered. */
export interface OrderLoad {
  /** Answers so far, by arrival. */
  readonly answers: number[];
  accepted(): number;
  /** Resolves when every order was sent and answered. */
  readonly done: Promise<number[]>;
}

/**
 * Sends `count` orders of `quantity` × `sku`, `concurrency` at a time (each worker sends its next
 * order when the last was answered), and optionally no faster than one per `spacingMs` per worker,
 * to spread a load over an outage of known length.
 */
export function placeOrders(
  customer: ShopClient,
  options: {
    count: number;
    sku: string;
    concurrency?: number;
    quantity?: number;
    spacingMs?: number;
    /**
     * Sends an order refused with 503 again, as a client honouring the answer does (twice a
     * second, for a minute at most) before it counts as answered: a load that outlasts an outage
     * instead of spending its orders on it.
     */
    retryRefused?: boolean;
  },
): OrderLoad {
  const answers: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < options.count) {
      next += 1;
      const started = Date.now();
      const place = () =>
        customer.placeOrder([{ sku: options.sku, quantity: options.quantity ?? 1 }]).catch(() => ({ status: 0 }));
      let answer = await place();
      for (let retry = 0; options.retryRefused && answer.status === 503 && retry < 120; retry++) {
        await new Promise((r) => setTimeout(r, 500)); // a client's pause before it asks again, not a wait for a condition
        answer = await place();
      }
      answers.push(answer.status);
      const pause = (options.spacingMs ?? 0) - (Date.now() - started);
      if (pause > 0) await new Promise((r) => setTimeout(r, pause)); // pacing of the load, not a wait for a condition
    }
  };
  const workers = Array.from({ length: options.concurrency ?? 4 }, worker);
  return {
    answers,
    accepted: () => answers.filter((status) => status === 202).length,
    done: Promise.all(workers).then(() => answers),
  };
}
