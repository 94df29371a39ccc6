import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

/**
 * The charts of docs/performance.md, drawn from the figures of the last full `npm run bench`
 * (bench/results/*.json) with Vega-Lite, as SVG: each figure against its aim, so that a reader sees
 * the gap at a glance. `npm run bench` renders them after a full run; `npm run bench:charts`
 * renders them again from the committed figures.
 */

const RESULTS = resolve(__dirname, 'results');
export const CHARTS_DIR = resolve(__dirname, '..', 'docs', 'performance');

// The figures are what the benchmarks wrote; only the fields read here are typed.
interface Figures {
  orders?: {
    ficusConfirmedPerSecond: number;
    rawPgSagaOrdersPerSecond: number;
    aims: { confirmedPerSecond: number; ratioToBareSql: number; oneAtATimeMs: { p50: number; p99: number } };
    latencyMs: { oneAtATime: { p50: number; p99: number }; halfCapacity: { p50: number; p99: number } };
    cpuMsPerOrder: { ficus: { process: number; postgres: number }; rawPg: { process: number; postgres: number } };
  };
  split?: {
    monolith: SplitSide;
    split: SplitSide;
    aims: {
      confirmedPerSecond: number;
      cpuPer1000Orders: number;
      cpuPer1000OrdersFicusProcesses: number;
      cpuPerRead: number;
      pacedLatencyMs: { p50: number; p99: number };
    };
    splitOverMonolith: {
      confirmedPerSecond: number;
      cpuPer1000Orders: number;
      cpuPer1000OrdersFicusProcesses: number;
      cpuPerRead: Record<string, number>;
    };
  };
  contract?: { ratio: number; aim: number };
  grpc?: { ratio: number };
  relay?: { ratio: number };
  observability?: { ratio: number; aim?: number };
  outboxLatency?: { latencyMs: { inProcess: { p50: number; p99: number }; kafka: { p50: number; p99: number } } };
}

interface SplitSide {
  confirmedPerSecond: number;
  pacedLatencyMs: { p50: number; p99: number };
  cpuSecondsPer1000Orders: {
    byProcess: Record<string, number>;
    postgres: number;
    kafkaBroker: number | null;
    total: number;
  };
}

function read<T>(name: string): T | undefined {
  const file = join(RESULTS, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

/** The figures of the current format (a file an older bench wrote has no aims, and is left out). */
function figures(): Figures {
  const withAims = <T>(value: T | undefined): T | undefined =>
    value && (value as { aims?: unknown }).aims ? value : undefined;
  const contract = read<{ ratio: number; aim: unknown }>('contract-call');
  return {
    orders: withAims(read('order-throughput')),
    split: withAims(read('split')),
    contract: contract && typeof contract.aim === 'number' ? (contract as Figures['contract']) : undefined,
    grpc: read('grpc'),
    relay: read('relay'),
    observability: read('observability'),
    outboxLatency: read('outbox-latency'),
  };
}

const WIDTH = 520;
const FONT = { font: 'Helvetica, Arial, sans-serif' };

/** Bars of measured values, each with its aim as a tick and a note of which way is better. */
function barsWithAims(
  title: string,
  unit: string,
  rows: Array<{ what: string; value: number; aim?: number; better?: 'higher' | 'lower' }>,
): TopLevelSpec {
  const values = rows.map((row) => ({
    ...row,
    met:
      row.aim === undefined
        ? 'no aim'
        : (row.better === 'lower' ? row.value <= row.aim : row.value >= row.aim)
          ? 'meets its aim'
          : 'misses its aim',
    label: `${row.value}${row.aim === undefined ? '' : ` (aim ${row.better === 'lower' ? '≤' : '≥'} ${row.aim})`}`,
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, ...FONT },
    width: WIDTH,
    data: { values },
    encoding: {
      y: { field: 'what', type: 'nominal', sort: null, title: null, axis: { labelLimit: 340, labelFont: FONT.font } },
    },
    layer: [
      {
        mark: { type: 'bar', height: 14 },
        encoding: {
          x: { field: 'value', type: 'quantitative', title: unit, axis: { titleFont: FONT.font } },
          color: {
            field: 'met',
            type: 'nominal',
            scale: { domain: ['meets its aim', 'misses its aim', 'no aim'], range: ['#2a9d8f', '#e76f51', '#8d99ae'] },
            legend: { title: null, orient: 'bottom', labelFont: FONT.font },
          },
        },
      },
      {
        mark: { type: 'tick', color: '#222', thickness: 2, size: 22 },
        encoding: { x: { field: 'aim', type: 'quantitative' } },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 10, ...FONT },
        encoding: { x: { field: 'value', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
  };
}

/** CPU per confirmed order, stacked by where it is spent, for the monolith and the split shop. */
function cpuPerOrder(split: NonNullable<Figures['split']>): TopLevelSpec {
  const parts = (topology: string, side: SplitSide) => [
    ...Object.entries(side.cpuSecondsPer1000Orders.byProcess).map(([process, seconds]) => ({
      topology,
      part: `process ${process}`,
      ms: seconds,
    })),
    { topology, part: 'PostgreSQL', ms: side.cpuSecondsPer1000Orders.postgres },
    ...(side.cpuSecondsPer1000Orders.kafkaBroker === null
      ? []
      : [{ topology, part: 'Kafka broker', ms: side.cpuSecondsPer1000Orders.kafkaBroker }]),
  ];
  const aim = Math.round(split.monolith.cpuSecondsPer1000Orders.total * split.aims.cpuPer1000Orders * 10) / 10;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: `CPU per confirmed order (ms): split ${split.splitOverMonolith.cpuPer1000Orders}× the monolith (aim ≤ ${split.aims.cpuPer1000Orders}×)`,
      ...FONT,
    },
    width: WIDTH,
    layer: [
      {
        data: { values: [...parts('monolith', split.monolith), ...parts('split', split.split)] },
        mark: { type: 'bar', height: 22 },
        encoding: {
          y: { field: 'topology', type: 'nominal', title: null },
          x: {
            field: 'ms',
            type: 'quantitative',
            aggregate: 'sum',
            title: 'CPU ms per order (processes, PostgreSQL, broker)',
          },
          color: {
            field: 'part',
            type: 'nominal',
            legend: { title: null, orient: 'bottom', columns: 4, labelFont: FONT.font },
            scale: { scheme: 'tableau20' },
          },
        },
      },
      {
        data: { values: [{ aim, label: `aim: ${aim} ms` }] },
        layer: [
          {
            mark: { type: 'rule', color: '#222', strokeDash: [4, 3], strokeWidth: 2 },
            encoding: { x: { field: 'aim', type: 'quantitative' } },
          },
          {
            mark: { type: 'text', align: 'left', dx: 3, dy: -60, fontSize: 10, ...FONT },
            encoding: { x: { field: 'aim', type: 'quantitative' }, text: { field: 'label' } },
          },
        ],
      },
    ],
  };
}

async function svgOf(spec: TopLevelSpec): Promise<string> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return `${svg}\n`;
}

/** Renders every chart whose figures exist; returns the files written. */
export async function renderCharts(outDir = CHARTS_DIR): Promise<string[]> {
  const f = figures();
  const charts: Array<[string, TopLevelSpec]> = [];
  if (f.orders && f.split) {
    const { orders, split } = f;
    charts.push([
      'orders-per-second.svg',
      barsWithAims('Orders CONFIRMED per second, 16 posting at once', 'orders per second', [
        {
          what: 'monolith (orders bench)',
          value: orders.ficusConfirmedPerSecond,
          aim: orders.aims.confirmedPerSecond,
          better: 'higher',
        },
        {
          what: 'monolith / bare SQL of the saga (×100)',
          value: Math.round((orders.ficusConfirmedPerSecond / orders.rawPgSagaOrdersPerSecond) * 100),
          aim: orders.aims.ratioToBareSql * 100,
          better: 'higher',
        },
        { what: 'bare SQL of the saga (orders bench)', value: orders.rawPgSagaOrdersPerSecond },
        { what: 'monolith (split bench)', value: split.monolith.confirmedPerSecond },
        {
          what: 'split (split bench)',
          value: split.split.confirmedPerSecond,
          aim: Math.round(split.monolith.confirmedPerSecond * split.aims.confirmedPerSecond * 10) / 10,
          better: 'higher',
        },
      ]),
    ]);
    charts.push([
      'latency.svg',
      barsWithAims('POST /orders → CONFIRMED, without a backlog (ms)', 'milliseconds', [
        {
          what: 'monolith, one at a time, p50',
          value: orders.latencyMs.oneAtATime.p50,
          aim: orders.aims.oneAtATimeMs.p50,
          better: 'lower',
        },
        {
          what: 'monolith, one at a time, p99',
          value: orders.latencyMs.oneAtATime.p99,
          aim: orders.aims.oneAtATimeMs.p99,
          better: 'lower',
        },
        { what: 'monolith, half load, p50', value: split.monolith.pacedLatencyMs.p50 },
        { what: 'monolith, half load, p99', value: split.monolith.pacedLatencyMs.p99 },
        {
          what: 'split, half load, p50',
          value: split.split.pacedLatencyMs.p50,
          aim: split.aims.pacedLatencyMs.p50,
          better: 'lower',
        },
        {
          what: 'split, half load, p99',
          value: split.split.pacedLatencyMs.p99,
          aim: split.aims.pacedLatencyMs.p99,
          better: 'lower',
        },
      ]),
    ]);
    charts.push(['cpu-per-order.svg', cpuPerOrder(split)]);
  }
  const ratios: Array<{ what: string; value: number; aim?: number; better?: 'higher' | 'lower' }> = [];
  if (f.contract)
    ratios.push({
      what: 'in-process contract call / CommandBus',
      value: f.contract.ratio,
      aim: f.contract.aim,
      better: 'lower',
    });
  if (f.grpc)
    ratios.push({ what: 'gRPC call through ficus / raw grpc-js', value: f.grpc.ratio, aim: 1.1, better: 'lower' });
  if (f.relay)
    ratios.push({ what: 'outbox relay / raw kafkajs producer', value: f.relay.ratio, aim: 0.7, better: 'higher' });
  if (f.observability)
    ratios.push({
      what: 'tracing and metrics on / off',
      value: f.observability.ratio,
      aim: f.observability.aim,
      better: 'higher',
    });
  if (f.split) {
    ratios.push({
      what: 'split / monolith, orders per second',
      value: f.split.splitOverMonolith.confirmedPerSecond,
      aim: f.split.aims.confirmedPerSecond,
      better: 'higher',
    });
    ratios.push({
      what: 'split / monolith, CPU per order (all)',
      value: f.split.splitOverMonolith.cpuPer1000Orders,
      aim: f.split.aims.cpuPer1000Orders,
      better: 'lower',
    });
    ratios.push({
      what: 'split / monolith, CPU per order (processes)',
      value: f.split.splitOverMonolith.cpuPer1000OrdersFicusProcesses,
      aim: f.split.aims.cpuPer1000OrdersFicusProcesses,
      better: 'lower',
    });
    for (const [read, ratio] of Object.entries(f.split.splitOverMonolith.cpuPerRead)) {
      ratios.push({
        what: `split / monolith, CPU per read (${read})`,
        value: ratio,
        aim: f.split.aims.cpuPerRead,
        better: 'lower',
      });
    }
  }
  if (ratios.length > 0)
    charts.push(['ratios.svg', barsWithAims('Ratios measured side by side, against their aims', 'ratio', ratios)]);
  if (f.outboxLatency) {
    const { inProcess, kafka } = f.outboxLatency.latencyMs;
    charts.push([
      'outbox-latency.svg',
      barsWithAims('Outbox commit → consumer handler (ms)', 'milliseconds', [
        { what: 'in-process p50', value: inProcess.p50, aim: 1, better: 'lower' },
        { what: 'in-process p99', value: inProcess.p99, aim: 5, better: 'lower' },
        { what: 'over Kafka p50', value: kafka.p50, aim: 3, better: 'lower' },
        { what: 'over Kafka p99', value: kafka.p99, aim: 15, better: 'lower' },
      ]),
    ]);
  }
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const [file, spec] of charts) {
    writeFileSync(join(outDir, file), await svgOf(spec));
    written.push(join(outDir, file));
  }
  return written;
}

if (require.main === module) {
  renderCharts().then(
    (files) => process.stdout.write(`${files.join('\n')}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
