import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadTopology, shippedTopologyPath } from '@infra/topology';
import { ShopClient } from '../support/http-client';
import { scrapeMetrics, type Scrape } from '../support/metrics-scrape';
import { startShop, type RunningShop } from '../support/shop';

/**
 * The shipped observability files (infra/observability) against what ficus really exports: every
 * metric the Grafana dashboard queries is exported by the monolith at /metrics, and Prometheus
 * scrapes every process of the split topology where it listens.
 */

const ROOT = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/**
 * Metrics the monolith declares but cannot have samples of, and why. Their values in split mode
 * are checked by test/observability/split-readiness.test.ts.
 */
const SPLIT_ONLY: Record<string, string> = {
  ficus_consumer_lag: 'only Kafka consumer groups have lag, and the monolith delivers events in-process',
  ficus_bulkhead_active: 'a bulkhead guards calls to a remote target only',
  ficus_bulkhead_queued: 'a bulkhead guards calls to a remote target only',
  ficus_circuit_breaker_state: 'a breaker guards calls to a remote target only',
  ficus_remote_calls_rejected_total: 'counted per remote target, from its first rejection',
};

interface Panel {
  id?: number;
  type: string;
  title: string;
  panels?: Panel[];
  targets?: Array<{ expr?: string; refId?: string; datasource?: unknown }>;
}

interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ type: string; query?: string | { query: string } }> };
}

const dashboard = JSON.parse(read('infra/observability/grafana/ficus-dashboard.json')) as Dashboard;

function panelsOf(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...panelsOf(panel.panels ?? [])]);
}

/** Every PromQL expression of the dashboard: its panels' queries and its variables' queries. */
function expressionsOf(board: Dashboard): string[] {
  const panelQueries = panelsOf(board.panels).flatMap((panel) => (panel.targets ?? []).map((t) => t.expr ?? ''));
  const variableQueries = board.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => (typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '')));
  return [...panelQueries, ...variableQueries].filter((expr) => expr.trim() !== '');
}

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects: what is left once strings, label matchers, range
 * and subquery brackets, offsets and grouping label lists are taken out, minus function calls and
 * keywords. Grafana's `label_values(metric, label)` selects its first argument.
 */
export function metricNamesOf(expr: string): string[] {
  const stripped = expr
    .replace(/label_values\(\s*([a-zA-Z_:][\w:]*)\s*,[^)]*\)/g, ' $1 ')
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+-?\w+/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const after = stripped.slice(match.index + match[0].length).trimStart();
    if (after.startsWith('(') || PROMQL_KEYWORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/** The family a sample name belongs to: `x_bucket`, `x_sum`, `x_count` of a histogram are `x`. */
function familyOf(name: string, scrape: Scrape): string {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && ['histogram', 'summary'].includes(scrape.types.get(base) ?? '') ? base : name;
}

describe('the PromQL metric-name reader of this test', () => {
  it('finds the selected metrics and nothing else', () => {
    expect(
      metricNamesOf(
        'histogram_quantile(0.95, sum by (job, le) (rate(ficus_x_bucket{job=~"$job",status=~"5.."}[$__rate_interval]))) / on(job) group_left ficus_y',
      ),
    ).toEqual(['ficus_x_bucket', 'ficus_y']);
    expect(metricNamesOf('label_values(ficus_z, job)')).toEqual(['ficus_z']);
    expect(metricNamesOf('sum(delta(ficus_orders{status="FAILED"}[1h])) / sum(ficus_orders offset 5m)')).toEqual([
      'ficus_orders',
    ]);
  });
});

describe('the Grafana dashboard (infra/observability/grafana/ficus-dashboard.json)', () => {
  let shop: RunningShop;
  let scrape: Scrape;

  beforeAll(async () => {
    shop = await startShop('dashboard');
    // Traffic, so that the RED metrics have samples: a route that calls a contract, and a 404.
    const client = new ShopClient(shop.baseUrl);
    expect((await client.get('/catalog/products?pageSize=2')).status).toBe(200);
    expect((await client.get('/catalog/products/NO-SUCH-SKU')).status).toBe(404);
    scrape = await scrapeMetrics(shop.operationsUrl);
  });
  afterAll(() => shop?.close());

  const queried = [...new Set(expressionsOf(dashboard).flatMap(metricNamesOf))].sort();

  it('queries metrics', () => {
    expect(queried.length).toBeGreaterThan(10);
  });

  it('queries only metrics that ficus exports', () => {
    const undeclared = queried.filter((name) => !scrape.types.has(familyOf(name, scrape)));
    expect(undeclared).toEqual([]);
  });

  it('queries metrics that the monolith has samples of, but for those that exist only in split mode', () => {
    const withoutSamples = queried
      .filter((name) => !(familyOf(name, scrape) in SPLIT_ONLY))
      .filter((name) => scrape.find(name).length === 0);
    expect(withoutSamples).toEqual([]);
  });

  it('lists as split-only only metrics it queries', () => {
    expect(Object.keys(SPLIT_ONLY).filter((name) => !queried.includes(name))).toEqual([]);
  });

  it('has unique panel ids, and every query names its data source and a unique refId', () => {
    const panels = panelsOf(dashboard.panels);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const panel of panels.filter((p) => p.targets)) {
      expect(panel.targets!.every((t) => t.datasource !== undefined)).toBe(true);
      expect(new Set(panel.targets!.map((t) => t.refId)).size).toBe(panel.targets!.length);
    }
  });
});

describe('the Prometheus scrape configuration (infra/observability/prometheus/prometheus.yml)', () => {
  interface ScrapeConfig {
    job_name: string;
    metrics_path?: string;
    static_configs: Array<{ targets: string[] }>;
  }
  const config = parse(read('infra/observability/prometheus/prometheus.yml')) as { scrape_configs: ScrapeConfig[] };
  const split = loadTopology(shippedTopologyPath('split'), { env: {} });

  it('has one job per process of the split topology, scraping its operations port at /metrics', () => {
    const jobs = Object.fromEntries(
      config.scrape_configs.map((job) => [
        job.job_name,
        { path: job.metrics_path ?? '/metrics', targets: job.static_configs.flatMap((s) => s.targets) },
      ]),
    );
    const expected = Object.fromEntries(
      split.targets.map((target) => [
        target.name,
        { path: '/metrics', targets: [`${target.operations.host}:${target.operations.port}`] },
      ]),
    );
    expect(jobs).toEqual(expected);
  });
});
