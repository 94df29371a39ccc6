/**
 * Topic and group names start with a namespace (FICUS_KAFKA_NAMESPACE, `ficus` by default), so
 * that several installations, or test runs, can share one broker without reading each other.
 */
export const DEFAULT_KAFKA_NAMESPACE = 'ficus';

/** Every context's integration events go to one topic of its own, keyed by aggregate id. */
export function eventTopicOf(context: string, namespace = DEFAULT_KAFKA_NAMESPACE): string {
  return `${namespace}.${context}.events`;
}

/** A consuming context's dead letters: what it could not process, with the reason in headers. */
export function deadLetterTopicOf(consumerContext: string, namespace = DEFAULT_KAFKA_NAMESPACE): string {
  return `${namespace}.${consumerContext}.dead-letters`;
}

/** The consumer group of a consuming context. */
export function consumerGroupOf(context: string, namespace = DEFAULT_KAFKA_NAMESPACE): string {
  return `${namespace}.${context}`;
}

/** Envelope fields carried as Kafka headers, so tools can route and trace without parsing values. */
export const HEADERS = {
  messageId: 'ficus-message-id',
  type: 'ficus-type',
  version: 'ficus-version',
  correlationId: 'ficus-correlation-id',
  causationId: 'ficus-causation-id',
  traceparent: 'traceparent',
  deadLetterReason: 'ficus-dead-letter-reason',
  deadLetterConsumer: 'ficus-dead-letter-consumer',
  originalTopic: 'ficus-original-topic',
  originalPartition: 'ficus-original-partition',
  originalOffset: 'ficus-original-offset',
  /** On a dead letter sent without the record's value (too large to send again): why. */
  deadLetterValue: 'ficus-dead-letter-value',
} as const;
