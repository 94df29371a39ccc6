import type { Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

interface SeriesMetricOptions {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly registers: readonly Registry[];
}

/**
 * A counter whose labelled series is looked up once (`series(labels)`), after which a count is one
 * addition. prom-client's own counters hash their labels on every `inc` — more than an in-process
 * contract call costs by itself. Registered in a prom-client registry, which exposes it in the
 * same text format as its own metrics.
 */
export class SeriesCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly all = new Map<string, { labels: Labels; value: number }>();

  constructor(private readonly options: SeriesMetricOptions) {
    this.name = options.name;
    this.help = options.help;
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  series(labels: Labels): { inc(by?: number): void } {
    const entry = seriesEntry(this.all, this.options.labelNames, labels, () => ({ labels, value: 0 }));
    return {
      inc: (by = 1) => {
        entry.value += by;
      },
    };
  }

  /**
   * The series of `fixed` labels, by the value of one more label resolved at each count (an
   * outcome): `of(value)` looks the value's series up once and then hands the same one out.
   */
  seriesBy(fixed: Labels, label: string): { of(value: string): { inc(by?: number): void } } {
    return seriesByLabel((labels) => this.series(labels), fixed, label);
  }

  get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: [...this.all.values()].map(({ labels, value }) => ({ labels: { ...labels }, value })),
    };
  }

  reset(): void {
    this.all.clear();
  }
}

/**
 * A histogram with series looked up once, like SeriesCounter; an observation is a bucket search and
 * three additions.
 */
export class SeriesHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly all = new Map<string, { labels: Labels; counts: Float64Array; sum: number; count: number }>();

  constructor(private readonly options: SeriesMetricOptions & { readonly buckets: readonly number[] }) {
    this.name = options.name;
    this.help = options.help;
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  series(labels: Labels): { observe(value: number): void } {
    const { buckets } = this.options;
    const entry = seriesEntry(this.all, this.options.labelNames, labels, () => ({
      labels,
      counts: new Float64Array(buckets.length),
      sum: 0,
      count: 0,
    }));
    return {
      observe: (value) => {
        entry.sum += value;
        entry.count += 1;
        for (let i = 0; i < buckets.length; i++) {
          if (value <= buckets[i]) {
            entry.counts[i] += 1;
            return;
          }
        }
      },
    };
  }

  /** As SeriesCounter's: the series of `fixed` labels by one more label's value, each looked up once. */
  seriesBy(fixed: Labels, label: string): { of(value: string): { observe(value: number): void } } {
    return seriesByLabel((labels) => this.series(labels), fixed, label);
  }

  get() {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const { labels, counts, sum, count } of this.all.values()) {
      let cumulative = 0;
      this.options.buckets.forEach((le, i) => {
        cumulative += counts[i];
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...labels }, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.all.clear();
  }
}

function seriesByLabel<S>(lookup: (labels: Labels) => S, fixed: Labels, label: string): { of(value: string): S } {
  const known = new Map<string, S>();
  return {
    of: (value) => {
      let series = known.get(value);
      if (!series) {
        series = lookup({ ...fixed, [label]: value });
        known.set(value, series);
      }
      return series;
    },
  };
}

function seriesEntry<T>(all: Map<string, T>, labelNames: readonly string[], labels: Labels, create: () => T): T {
  const unknown = Object.keys(labels).find((name) => !labelNames.includes(name));
  if (unknown) throw new Error(`label ${unknown} is not one of ${labelNames.join(', ')}`);
  const key = labelNames.map((name) => labels[name] ?? '').join('\u0000');
  let entry = all.get(key);
  if (!entry) {
    entry = create();
    all.set(key, entry);
  }
  return entry;
}
