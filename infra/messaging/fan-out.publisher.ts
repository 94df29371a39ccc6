import type { Envelope } from '@contracts/kernel';
import type { EventPublisher } from './event-transport';

/**
 * Publishes to every transport in turn: subscribers in this process, then the broker for the
 * others. Resolves only when all took the batch; if one fails the relay keeps the rows and tries
 * again later, and consumers that already had them absorb the redelivery in their inbox.
 */
export class FanOutPublisher implements EventPublisher {
  readonly kind: string;

  constructor(private readonly publishers: readonly EventPublisher[]) {
    this.kind = publishers.map((p) => p.kind).join('+');
  }

  async publish(envelopes: readonly Envelope[]): Promise<void> {
    for (const publisher of this.publishers) {
      await publisher.publish(envelopes);
    }
  }
}
