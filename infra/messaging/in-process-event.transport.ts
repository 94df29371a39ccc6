import type { Envelope } from '@contracts/kernel';
import type { EventDelivery, EventPublisher } from './event-transport';

/**
 * Delivers events to the consumers in this process. Envelopes of one aggregate are delivered one
 * after another, in outbox order; different aggregates go concurrently, a bounded number at once.
 */
export class InProcessEventTransport implements EventPublisher {
  readonly kind = 'in-process';
  private readonly consumers = new Map<string, EventDelivery[]>();

  constructor(private readonly concurrency = 8) {}

  subscribe(delivery: EventDelivery): void {
    const list = this.consumers.get(delivery.eventKey) ?? [];
    if (list.some((existing) => existing.consumer === delivery.consumer)) {
      throw new Error(`${delivery.consumer} subscribes twice`);
    }
    list.push(delivery);
    this.consumers.set(delivery.eventKey, list);
  }

  subscribersOf(eventKey: string): readonly EventDelivery[] {
    return this.consumers.get(eventKey) ?? [];
  }

  async publish(envelopes: readonly Envelope[]): Promise<void> {
    const byAggregate = new Map<string, Envelope[]>();
    for (const envelope of envelopes) {
      const list = byAggregate.get(envelope.aggregateId) ?? [];
      list.push(envelope);
      byAggregate.set(envelope.aggregateId, list);
    }
    const queues = [...byAggregate.values()];
    let failure: { error: unknown } | undefined;
    const workers = Array.from({ length: Math.min(this.concurrency, queues.length) }, async () => {
      for (let queue = queues.shift(); queue && !failure; queue = queues.shift()) {
        for (const envelope of queue) {
          try {
            await this.deliver(envelope);
          } catch (error) {
            failure ??= { error }; // the others stop taking new work; the batch is tried again
            return;
          }
        }
      }
    });
    await Promise.all(workers);
    if (failure) throw failure.error;
  }

  private async deliver(envelope: Envelope): Promise<void> {
    const subscribers = this.consumers.get(`${envelope.type}.v${envelope.version}`) ?? [];
    await Promise.all(subscribers.map((subscriber) => subscriber.deliver(envelope)));
  }
}
