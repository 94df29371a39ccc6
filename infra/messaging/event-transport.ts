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

/** What became of one delivered envelope. */
export type DeliveryOutcome =
  { readonly outcome: 'processed' | 'duplicate' } | { readonly outcome: 'dead-lettered'; readonly reason: string };

/**
 * What a consumer does with one delivered envelope. It never throws for a bad message (that goes
 * to dead letters); it throws only when it could not even record that, e.g. its database is down,
 * and then the message must be delivered again.
 */
export interface EventDelivery {
  readonly consumer: string;
  readonly eventKey: string;
  deliver(envelope: Envelope): Promise<DeliveryOutcome | void>;
}
