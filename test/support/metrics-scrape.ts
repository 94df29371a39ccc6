/** One sample of a Prometheus text exposition: `name{label="value",…} 12`. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

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
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1], type[2]);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!sample) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    samples.push({ name: sample[1], labels, value: Number(sample[3]) });
  }
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
