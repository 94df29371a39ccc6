import autocannon from 'autocannon';
import { startOtlpReceiver } from '../test/support/otlp-receiver';
import { startShopProcess, type ShopProcess } from '../test/support/shop-process';
import { startBenchDatabase } from './bench-database';
import { plentyOfStock, signUp } from './bench-shop';
import { line, median, writeResult } from './measure';
import { scaled } from './bench-scale';

const SKU = 'SOIL-MIX';
const SECONDS = scaled(8, 2);
/** The share of traces the sampled process records. */
const SAMPLED = 0.1;
const ROUNDS = scaled(4, 2);

/**
 * (10) The cost of observability: POST /orders per second, closed loop (16 connections), on two
 * monolith processes side by side in alternating rounds — one with tracing exporting every span
 * (OTLP/HTTP to a receiver in this process) and /metrics scraped every second, the other with
 * OTEL_SDK_DISABLED=true and never scraped. The saga each order starts runs (and is traced) too.
 * A third process keeps its latest spans for the console (FICUS_TRACE_BUFFER=5000) and exports
 * none: what keeping traces to look at costs without a tracing backend. A fourth exports and is
 * scraped as the first, recording a tenth of the traces (OTEL_TRACES_SAMPLER=parentbased_traceidratio,
 * OTEL_TRACES_SAMPLER_ARG=0.1), as a busy production shop would.
 */
export async function benchObservability(): Promise<Record<string, unknown>> {
  const database = await startBenchDatabase('observability', 'FICUS_BENCH_OBS_PG_PORT');
  const receiver = await startOtlpReceiver();
  const shops: ShopProcess[] = [];
  try {
    const names = ['ficus_obs_on', 'ficus_obs_kept', 'ficus_obs_off', 'ficus_obs_sampled'];
    const on = await startShopProcess(await database.shopDatabase('ficus_obs_on'), {
      LOG_HTTP_REQUESTS: 'false',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '1000',
    });
    shops.push(on);
    const kept = await startShopProcess(await database.shopDatabase('ficus_obs_kept'), {
      LOG_HTTP_REQUESTS: 'false',
      FICUS_TRACE_BUFFER: '5000',
    });
    shops.push(kept);
    const off = await startShopProcess(await database.shopDatabase('ficus_obs_off'), {
      LOG_HTTP_REQUESTS: 'false',
      OTEL_SDK_DISABLED: 'true',
    });
    shops.push(off);
    const sampled = await startShopProcess(await database.shopDatabase('ficus_obs_sampled'), {
      LOG_HTTP_REQUESTS: 'false',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '1000',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: String(SAMPLED),
    });
    shops.push(sampled);
    for (const name of names) await plentyOfStock(database.urlOf(name), SKU);
    const variants = { on, kept, off, sampled };
    const tokens = {
      on: (await signUp(on.baseUrl)).token,
      kept: (await signUp(kept.baseUrl)).token,
      off: (await signUp(off.baseUrl)).token,
      sampled: (await signUp(sampled.baseUrl)).token,
    };

    const rounds = { on: [] as number[], kept: [] as number[], off: [] as number[], sampled: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const order =
        round % 2 === 0 ? (['on', 'sampled', 'kept', 'off'] as const) : (['off', 'kept', 'sampled', 'on'] as const);
      for (const which of order) {
        const shop = variants[which];
        const scraping =
          which === 'on' || which === 'sampled'
            ? setInterval(
                () =>
                  void fetch(`${shop.operationsUrl}/metrics`)
                    .then((r) => r.text())
                    .catch(() => undefined),
                1_000,
              )
            : undefined;
        try {
          rounds[which].push(await ordersPerSecond(shop.baseUrl, tokens[which]));
        } finally {
          clearInterval(scraping);
        }
        // The sagas a round started run on after it: the next round starts once they are done,
        // so no process's round pays for another's backlog.
        await outboxesDrained(shop);
      }
    }
    const figures = {
      seconds: SECONDS,
      rounds: ROUNDS,
      onPerSecond: Math.round(median(rounds.on)),
      keptPerSecond: Math.round(median(rounds.kept)),
      offPerSecond: Math.round(median(rounds.off)),
      ratio: Math.round((median(rounds.on) / median(rounds.off)) * 100) / 100,
      keptRatio: Math.round((median(rounds.kept) / median(rounds.off)) * 100) / 100,
      sampledPerSecond: Math.round(median(rounds.sampled)),
      sampledRatio: Math.round((median(rounds.sampled) / median(rounds.off)) * 100) / 100,
      sampledShare: SAMPLED,
      aim: OBSERVABILITY_AIM,
      spansExported: receiver.spans.length,
      roundsOn: rounds.on.map(Math.round),
      roundsKept: rounds.kept.map(Math.round),
      roundsOff: rounds.off.map(Math.round),
      roundsSampled: rounds.sampled.map(Math.round),
    };
    line('(10) observability on vs off: POST /orders per second on the monolith, closed loop, 16 connections');
    line(
      `    tracing exported + /metrics scraped every 1 s: ${figures.onPerSecond}/s   tracing off, never scraped: ${figures.offPerSecond}/s`,
    );
    line(`    ratio on/off: ${figures.ratio} (aim ≥ ${OBSERVABILITY_AIM}); ${figures.spansExported} spans exported`);
    line(
      `    spans kept for the console (FICUS_TRACE_BUFFER=5000, none exported): ${figures.keptPerSecond}/s, ` +
        `ratio kept/off ${figures.keptRatio}`,
    );
    line(
      `    a tenth of the traces recorded (parentbased_traceidratio ${SAMPLED}), exported + scraped: ` +
        `${figures.sampledPerSecond}/s, ratio sampled/off ${figures.sampledRatio}`,
    );
    line(`    → ${writeResult('observability', figures)}`);
    return figures;
  } finally {
    for (const shop of shops) await shop.stop();
    await receiver.close();
    await database.stop();
  }
}

/** Waits (at most a minute) until the shop's outboxes hold nothing unsent. */
async function outboxesDrained(shop: ShopProcess): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const metrics = await fetch(`${shop.operationsUrl}/metrics`).then((answer) => answer.text());
    const backlog = [...metrics.matchAll(/^ficus_outbox_backlog\{[^}]*\} (\d+)/gm)].reduce(
      (sum, [, value]) => sum + Number(value),
      0,
    );
    if (backlog === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function ordersPerSecond(baseUrl: string, token: string): Promise<number> {
  const result = await autocannon({
    url: `${baseUrl}/orders`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ items: [{ sku: SKU, quantity: 1 }], paymentToken: 'tok_visa' }),
    connections: 16,
    duration: SECONDS,
  });
  return result['2xx'] / SECONDS;
}

/** What issue 14 asks: throughput with tracing exported and metrics scraped at least this share of it with both off. */
export const OBSERVABILITY_AIM = 0.9;
