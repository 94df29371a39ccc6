import { parseExposition as parseSamples, type MetricSample } from '@infra/observability';

export type { MetricSample };

export interface Scrape {
  /** Every metric family declared (`# TYPE name type`), sampled or not. */
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly MetricSample[];
  /** Samples of `name` whose labels include `labels`. */
  find(name: string, labels?: Record<string, string>): MetricSample[];
}

/** Reads a Prometheus text exposition (what GET /metrics answers). */
export function parseExposition(text: string): Scrape {
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
  }
  const samples = parseSamples(text);
  return {
    types,
    samples,
    find: (name, wanted = {}) =>
      samples.filter((s) => s.name === name && Object.entries(wanted).every(([key, value]) => s.labels[key] === value)),
  };
}

export async function scrapeMetrics(baseUrl: string): Promise<Scrape> {
  const answer = await fetch(`${baseUrl}/metrics`);
  if (answer.status !== 200) throw new Error(`GET ${baseUrl}/metrics answered ${answer.status}`);
  return parseExposition(await answer.text());
}
