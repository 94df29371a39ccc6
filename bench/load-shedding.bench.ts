import autocannon from 'autocannon';
import { startShopProcess, type ShopProcess } from '../test/support/shop-process';
import { startBenchDatabase } from './bench-database';
import { plentyOfStock, signUp } from './bench-shop';
import { line, round2, percentile, writeResult } from './measure';
import { scaled } from './bench-scale';

const SKU = 'SOIL-MIX';
const SECONDS = scaled(10, 2);

interface LevelResult {
  readonly level: string;
  readonly offeredPerSecond: number;
  readonly admittedPerSecond: number;
  readonly shedPerSecond: number;
  /** Answers that are neither 202 nor a 503 with Retry-After, and connection errors/timeouts. */
  readonly otherAnswers: Record<string, number>;
  readonly admittedP50Ms: number;
  readonly admittedP99Ms: number;
}

/**
 * (9) Load shedding: POST /orders on the monolith process (the edge's admission gate at its
 * defaults), first closed-loop to measure capacity on this machine, then open-loop at 1×, 2× and
 * 4× that rate. A process that sheds keeps its admitted throughput near capacity and the latency
 * of admitted requests bounded, answering the excess at once with 503 + Retry-After; for contrast,
 * the same 4× against a process whose gate is wide open.
 */
export async function benchLoadShedding(): Promise<Record<string, unknown>> {
  const database = await startBenchDatabase('load', 'FICUS_BENCH_LOAD_PG_PORT');
  const shops: ShopProcess[] = [];
  try {
    const gated = await startShopProcess(await database.shopDatabase('ficus_load'), { LOG_HTTP_REQUESTS: 'false' });
    shops.push(gated);
    const open = await startShopProcess(await database.shopDatabase('ficus_load_open'), {
      LOG_HTTP_REQUESTS: 'false',
      FICUS_HTTP_MAX_CONCURRENT: '10000',
      FICUS_HTTP_MAX_QUEUED: '100000',
    });
    shops.push(open);
    for (const name of ['ficus_load', 'ficus_load_open']) await plentyOfStock(database.urlOf(name), SKU);

    const gatedToken = (await signUp(gated.baseUrl)).token;
    const openToken = (await signUp(open.baseUrl)).token;
    const capacity = await measure(gated.baseUrl, gatedToken, 'capacity (closed loop, 32 connections)', {
      connections: 32,
    });
    const levels: LevelResult[] = [capacity];
    for (const factor of [1, 2, 4]) {
      const rate = Math.round(capacity.admittedPerSecond * factor);
      levels.push(
        await measure(gated.baseUrl, gatedToken, `${factor}× capacity`, {
          connections: Math.min(1_000, Math.max(32, rate)),
          overallRate: rate,
        }),
      );
    }
    const rate4 = Math.round(capacity.admittedPerSecond * 4);
    const ungated = await measure(open.baseUrl, openToken, '4× capacity, gate wide open', {
      connections: Math.min(1_000, Math.max(32, rate4)),
      overallRate: rate4,
    });

    line('(9) load shedding: POST /orders on the monolith, admission gate at its defaults (64 at once, 128 waiting)');
    for (const r of [...levels, ungated]) {
      const other =
        Object.entries(r.otherAnswers)
          .map(([k, n]) => `${n}×${k}`)
          .join(' ') || 'none';
      line(
        `    ${r.level.padEnd(40)} offered ${String(r.offeredPerSecond).padStart(5)}/s  admitted ${String(r.admittedPerSecond).padStart(5)}/s  ` +
          `shed ${String(r.shedPerSecond).padStart(5)}/s  admitted p50 ${String(r.admittedP50Ms).padStart(5)} ms p99 ${String(r.admittedP99Ms).padStart(5)} ms  other: ${other}`,
      );
    }
    const at4 = levels[3];
    const figures = {
      seconds: SECONDS,
      levels: [...levels, ungated],
      admittedAt4xOverCapacity: round2(at4.admittedPerSecond / capacity.admittedPerSecond),
      admittedP99At4xGatedOverOpen: round2(at4.admittedP99Ms / Math.max(1, ungated.admittedP99Ms)),
    };
    line(`    admitted throughput at 4× / capacity: ${figures.admittedAt4xOverCapacity} (aim ≥ 0.8: no collapse)`);
    line(
      `    admitted p99 at 4×, gate on / gate wide open: ${figures.admittedP99At4xGatedOverOpen} (below 1: shedding keeps latency)`,
    );
    line(`    → ${writeResult('load-shedding', figures)}`);
    return figures;
  } finally {
    for (const shop of shops) await shop.stop();
    await database.stop();
  }
}

async function measure(
  baseUrl: string,
  token: string,
  level: string,
  options: { connections: number; overallRate?: number },
): Promise<LevelResult> {
  const admittedLatencies: number[] = [];
  const other: Record<string, number> = {};
  let admitted = 0;
  let shed = 0;
  let finished!: (result: autocannon.Result) => void;
  let failed!: (error: unknown) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => ((finished = resolve), (failed = reject)));
  const instance = autocannon(
    {
      url: `${baseUrl}/orders`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ items: [{ sku: SKU, quantity: 1 }], paymentToken: 'tok_visa' }),
      connections: options.connections,
      overallRate: options.overallRate,
      duration: SECONDS,
      timeout: 10,
    },
    (error, result) => (error ? failed(error) : finished(result)),
  );
  instance.on('response', (_client, status, _bytes, responseTime) => {
    if (status === 202) {
      admitted += 1;
      admittedLatencies.push(responseTime);
    } else if (status === 503) {
      shed += 1;
    } else {
      other[status] = (other[status] ?? 0) + 1;
    }
  });
  const result = await done;
  if (result.errors > 0) other.errors = result.errors;
  if (result.timeouts > 0) other.timeouts = result.timeouts;
  return {
    level,
    offeredPerSecond: options.overallRate ?? Math.round((admitted + shed) / SECONDS),
    admittedPerSecond: Math.round(admitted / SECONDS),
    shedPerSecond: Math.round(shed / SECONDS),
    otherAnswers: other,
    admittedP50Ms: Math.round(percentile(admittedLatencies, 50) ?? 0),
    admittedP99Ms: Math.round(percentile(admittedLatencies, 99) ?? 0),
  };
}
