import { z } from 'zod';

/**
 * The envelope every integration event travels in, in-process and over Kafka alike. The payload
 * is checked against the event's own schema by the consumer; the envelope is what the machinery
 * needs to route, deduplicate and trace it.
 */
export const EnvelopeSchema = z.object({
  id: z.uuid(),
  type: z.string().min(1).max(200),
  version: z.number().int().positive().max(1_000),
  occurredAt: z.iso.datetime({ offset: true }),
  // Bounded, as everything that reaches a log line and a Kafka header is: ids and request ids are
  // far shorter, and a record from elsewhere must not carry a megabyte in one.
  aggregateId: z.string().min(1).max(200),
  correlationId: z.string().min(1).max(200),
  causationId: z.string().max(200).optional(),
  traceparent: z.string().max(200).optional(),
  payload: z.unknown(),
});
export type Envelope<P = unknown> = Omit<z.infer<typeof EnvelopeSchema>, 'payload'> & { payload: P };

/** Where an event came from: the correlation and causation chain it continues. */
export interface EventOrigin {
  readonly correlationId: string;
  readonly causationId?: string;
  readonly traceparent?: string;
}

/** The origin of events caused by handling `envelope`: same correlation, caused by it. */
export function causedBy(envelope: Pick<Envelope, 'id' | 'correlationId' | 'traceparent'>): EventOrigin {
  return { correlationId: envelope.correlationId, causationId: envelope.id, traceparent: envelope.traceparent };
}
