import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/**
 * The process's Prometheus registry, served at GET /metrics by every ficus process (edge and
 * services alike). One registry per process: a process is what Prometheus scrapes.
 */
export const processMetrics = new Registry();
// The event-loop lag histogram samples every 100 ms, not prom-client's default 10: its timer was
// the most frequent wake-up of an idle process (100 a second), and idle wake-ups are what an idle
// split shop spends its CPU on (docs/performance.md). Lag percentiles keep their meaning.
collectDefaultMetrics({ register: processMetrics, eventLoopMonitoringPrecision: 100 });

/** Anything whose state is read at scrape time (a breaker turns half-open only when looked at). */
export interface ObservedBreaker {
  readonly name: string;
  readonly state: 'closed' | 'open' | 'half-open';
}

const BREAKER_STATE_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;
const observedBreakers = new Set<ObservedBreaker>();

new Gauge({
  name: 'ficus_circuit_breaker_state',
  help: 'Circuit breaker per remote target: 0 closed, 1 half-open, 2 open',
  labelNames: ['target'],
  registers: [processMetrics],
  collect() {
    this.reset();
    for (const breaker of observedBreakers) this.set({ target: breaker.name }, BREAKER_STATE_VALUE[breaker.state]);
  },
});

export const breakerTransitions = new Counter({
  name: 'ficus_circuit_breaker_transitions_total',
  help: 'Circuit breaker state changes per remote target, by the state entered',
  labelNames: ['target', 'to'],
  registers: [processMetrics],
});

export const remoteCallsRejected = new Counter({
  name: 'ficus_remote_calls_rejected_total',
  help: 'Calls to a remote target failed fast without being sent, by reason (circuit-open, bulkhead-full)',
  labelNames: ['target', 'reason'],
  registers: [processMetrics],
});

export const httpRequestsShed = new Counter({
  name: 'ficus_http_requests_shed_total',
  help: 'Public HTTP requests answered 503 by admission control because the process was at capacity',
  registers: [processMetrics],
});

export const httpBodiesRefused = new Counter({
  name: 'ficus_http_bodies_refused_total',
  help:
    'Public HTTP requests answered 429 too-many-bodies before their body was read: more of one ' +
    "client's bodies were arriving at once than FICUS_HTTP_MAX_BODIES_READING_PER_CLIENT (past the " +
    "process's bound, a request is shed and counted in ficus_http_requests_shed_total)",
  registers: [processMetrics],
});

export const httpRequestsInFlight = new Gauge({
  name: 'ficus_http_requests_in_flight',
  help: 'Public HTTP requests admitted and not yet answered',
  registers: [processMetrics],
});

export const graphqlStreamsOpen = new Gauge({
  name: 'ficus_graphql_streams_open',
  help: 'GraphQL streams (subscriptions, server-sent events) held open on their own budget (FICUS_GRAPHQL_STREAMS)',
  registers: [processMetrics],
});

export const graphqlStreamsRefused = new Counter({
  name: 'ficus_graphql_streams_refused_total',
  help: 'GraphQL streams refused: the process held all it may (reason=process, 503), or the caller (caller, 429)',
  labelNames: ['reason'] as const,
  registers: [processMetrics],
});

export const httpRequestsQueued = new Gauge({
  name: 'ficus_http_requests_queued',
  help: 'Public HTTP requests waiting for admission',
  registers: [processMetrics],
});

/** Exposes a breaker's state at /metrics until `forget` is called (when its transport closes). */
export function observeBreaker(breaker: ObservedBreaker): { forget(): void } {
  observedBreakers.add(breaker);
  return { forget: () => observedBreakers.delete(breaker) };
}

/** A target reached through the registry: its instances now, by whether calls go to them. */
export interface ObservedPeer {
  readonly target: string;
  instances(): ReadonlyArray<{ readonly ejected: boolean }>;
}

const observedPeers = new Set<ObservedPeer>();

new Gauge({
  name: 'ficus_peer_instances',
  help: 'Live instances of each target this process balances over (service registry), by state: serving or ejected',
  labelNames: ['target', 'state'],
  registers: [processMetrics],
  collect() {
    this.reset();
    for (const peer of observedPeers) {
      const instances = peer.instances();
      const ejected = instances.filter((i) => i.ejected).length;
      this.set({ target: peer.target, state: 'serving' }, instances.length - ejected);
      this.set({ target: peer.target, state: 'ejected' }, ejected);
    }
  },
});

/** Exposes a balanced target's instance counts at /metrics until `forget` is called (when its transport closes). */
export function observePeer(peer: ObservedPeer): { forget(): void } {
  observedPeers.add(peer);
  return { forget: () => observedPeers.delete(peer) };
}

/**
 * Contract calls a caller sent to each version of a target it splits traffic for (a canary, or
 * an extracted service beside its in-process copy): the share each version really took.
 */
export const routedCalls = new Counter({
  name: 'ficus_routed_calls_total',
  help:
    'Contract calls by the version of the target they were routed to (stable, canary, in-process, ' +
    'extracted) and outcome',
  labelNames: ['target', 'version', 'outcome'],
  registers: [processMetrics],
});

/** Shadowed calls during an extraction: the extracted copy answered the same (match), differently, or failed. */
export const shadowComparisons = new Counter({
  name: 'ficus_shadow_comparisons_total',
  help:
    'Reads served in-process and also asked of the extracted service, by context and outcome (match, ' +
    'mismatch, error)',
  labelNames: ['context', 'outcome'],
  registers: [processMetrics],
});
