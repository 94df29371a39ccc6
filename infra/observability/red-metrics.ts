import { Counter, Histogram } from 'prom-client';
import { processMetrics } from './process-metrics';
import { SeriesCounter, SeriesHistogram } from './series-metrics';

/**
 * RED (rate, errors, duration) for what a process serves and calls: every public HTTP route, and
 * every contract method it calls (in-process or remote alike, so both modes are measured the
 * same way). Routes are labelled by their pattern (`/orders/:id`), never by the raw path, to keep
 * the number of series bounded.
 */

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpRequests = new Counter({
  name: 'ficus_http_requests_total',
  help: 'HTTP requests answered, by route pattern, method and status',
  labelNames: ['route', 'method', 'status'],
  registers: [processMetrics],
});

export const httpRequestDuration = new Histogram({
  name: 'ficus_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by route pattern, method and status',
  labelNames: ['route', 'method', 'status'],
  buckets: SECONDS,
  registers: [processMetrics],
});

// The two series of every contract call are looked up once per method and outcome (SeriesCounter,
// SeriesHistogram): prom-client's own metrics hash their labels on every observation.
export const contractCalls = new SeriesCounter({
  name: 'ficus_contract_calls_total',
  help: 'Contract calls made, by contract, method and outcome (ok, or the error kind)',
  labelNames: ['contract', 'method', 'outcome'],
  registers: [processMetrics],
});

/** The serving side's count: calls this process answered over the network, whoever made them. */
export const contractCallsServed = new SeriesCounter({
  name: 'ficus_contract_calls_served_total',
  help: 'Contract calls served over gRPC, by contract, method and outcome (ok, or the error kind)',
  labelNames: ['contract', 'method', 'outcome'],
  registers: [processMetrics],
});

export const contractCallDuration = new SeriesHistogram({
  name: 'ficus_contract_call_duration_seconds',
  help: 'Time of a contract call as its caller sees it, by contract, method and transport',
  labelNames: ['contract', 'method', 'transport'],
  buckets: SECONDS,
  registers: [processMetrics],
});

/**
 * A hop between contexts, split in two: how old an event is when a consumer starts on it (from
 * `occurredAt`, stamped in the producer's transaction: the commit, the dispatch and, in split
 * mode, the broker), and how long the consumer then takes (its inbox transaction, retries
 * included). Across machines the age is only as good as their clocks agree (NTP); a negative one
 * counts as 0.
 */
export const eventAge = new SeriesHistogram({
  name: 'ficus_event_age_seconds',
  help: 'Time from an event being recorded by its producer to a consumer starting to handle it, by consumer',
  labelNames: ['consumer'],
  buckets: SECONDS,
  registers: [processMetrics],
});

export const eventHandlingDuration = new SeriesHistogram({
  name: 'ficus_event_handling_seconds',
  help: 'Time a consumer took to handle an event, retries included, by consumer and outcome (processed, failed, …)',
  labelNames: ['consumer', 'outcome'],
  buckets: SECONDS,
  registers: [processMetrics],
});
