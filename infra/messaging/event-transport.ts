import type { Envelope } from '@contracts/kernel';

/**
 * How integration events leave a relay: to subscribers in this process, or to a broker. A
 * transport resolves only once every envelope is delivered (or durably handed to the broker), in
 * order per aggregate id; the relay marks rows sent only then.
 */
export interface EventPublisher {
  readonly kind: string;
  publish(envelopes: readonly Envelope[]): Promise<void>;
}

/** What a consumer does with one delivered envelope; it never throws for a bad message. */
export interface EventDelivery {
  readonly consumer: string;
  readonly eventKey: string;
  deliver(envelope: Envelope): Promise<void>;
}
