import autocannon from 'autocannon';
import { ensureDatabase } from '@infra/persistence';
import { startOtlpReceiver } from '../test/support/otlp-receiver';
import { startShopProcess, type ShopProcess } from '../test/support/shop-process';
import { startBenchDatabase } from './bench-database';
import { plentyOfStock, signUp } from './bench-shop';
import { line, median, writeResult } from './measure';
import { scaled } from './bench-scale';

const SKU = 'SOIL-MIX';
const SECONDS = scaled(8, 2);
const ROUNDS = scaled(4, 2);

/**
 * (10) The cost of observability: POST /orders per second, closed loop (16 connections), on two
 * monolith processes side by side in alternating rounds — one with tracing exporting every span
 * (OTLP/HTTP to a receiver in this process) and /metrics scraped every second, the other with
 * OTEL_SDK_DISABLED=true and never scraped. The saga each order starts runs (and is traced) too.
 */
export async function benchObservability(): Promise<Record<string, unknown>> {
  const database = await startBenchDatabase('observability', 'FICUS_BENCH_OBS_PG_PORT');
  const receiver = await startOtlpReceiver();
  const shops: ShopProcess[] = [];
  try {
    const config = (name: string) => ({
      adminUrl: database.adminUrl,
      database: name,
      contextUrls: {},
      roleSecret: 'ficus-bench-role-secret',
      poolSize: 10,
    });
    for (const name of ['ficus_obs_on', 'ficus_obs_off']) await ensureDatabase(database.adminUrl, name);
    const on = await startShopProcess(config('ficus_obs_on'), {
      LOG_HTTP_REQUESTS: 'false',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '1000',
    });
    shops.push(on);
    const off = await startShopProcess(config('ficus_obs_off'), {
      LOG_HTTP_REQUESTS: 'false',
      OTEL_SDK_DISABLED: 'true',
    });
    shops.push(off);
    for (const name of ['ficus_obs_on', 'ficus_obs_off']) await plentyOfStock(database.urlOf(name), SKU);
    const tokens = { on: (await signUp(on.baseUrl)).token, off: (await signUp(off.baseUrl)).token };

    const rounds = { on: [] as number[], off: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const which of order) {
        const shop = which === 'on' ? on : off;
        const scraping =
          which === 'on'
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
      }
    }
    const figures = {
      seconds: SECONDS,
      rounds: ROUNDS,
      onPerSecond: Math.round(median(rounds.on)),
      offPerSecond: Math.round(median(rounds.off)),
      ratio: Math.round((median(rounds.on) / median(rounds.off)) * 100) / 100,
      spansExported: receiver.spans.length,
      roundsOn: rounds.on.map(Math.round),
      roundsOff: rounds.off.map(Math.round),
    };
    line('(10) observability on vs off: POST /orders per second on the monolith, closed loop, 16 connections');
    line(
      `    tracing exported + /metrics scraped every 1 s: ${figures.onPerSecond}/s   tracing off, never scraped: ${figures.offPerSecond}/s`,
    );
    line(`    ratio on/off: ${figures.ratio} (aim ≥ 0.85); ${figures.spansExported} spans exported`);
    line(`    → ${writeResult('observability', figures)}`);
    return figures;
  } finally {
    for (const shop of shops) await shop.stop();
    await receiver.close();
    await database.stop();
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
