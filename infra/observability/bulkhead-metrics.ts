import { ScrapedGauge, type Observation } from './scraped-gauge';

/** A bulkhead in front of one remote target, read at scrape time. */
export interface ObservedBulkhead {
  readonly target: string;
  /** Calls to the target under way now. */
  readonly active: number;
  /** Calls waiting for a slot. */
  readonly queued: number;
}

const bulkheadActive = new ScrapedGauge({
  name: 'ficus_bulkhead_active',
  help: 'Calls to a remote target under way now (bulkhead slots taken)',
  labelNames: ['target'],
});

const bulkheadQueued = new ScrapedGauge({
  name: 'ficus_bulkhead_queued',
  help: "Calls to a remote target waiting for a bulkhead slot; beyond the queue's size they fail fast",
  labelNames: ['target'],
});

/** Exposes a bulkhead at /metrics until `forget` is called (when its transport closes). */
export function observeBulkhead(bulkhead: ObservedBulkhead): Observation {
  const observed = [
    bulkheadActive.observe(() => [{ labels: { target: bulkhead.target }, value: bulkhead.active }]),
    bulkheadQueued.observe(() => [{ labels: { target: bulkhead.target }, value: bulkhead.queued }]),
  ];
  return { forget: () => observed.forEach((o) => o.forget()) };
}
