import { startShopProcess } from '../test/support/shop-process';
import { startBenchDatabase } from './bench-database';
import { post, signUp } from './bench-shop';
import { line, median, percentile, writeResult } from './measure';
import { ticksOf, seconds } from './process-cpu';
import { scaled } from './bench-scale';

const READS = scaled(300, 20);
const ROUNDS = scaled(4, 2);

/** What `GET /orders/:id/details` answers: the order, its lines' product names, its payment and shipment. */
const ORDER_QUERY =
  'query ($id: ID!) { order(id: $id) { id status total { amountMinor currency } ' +
  'lines { sku quantity unitPrice { amountMinor } product { name } } ' +
  'payment { status amount { amountMinor } providerReference } shipment { trackingNumber status } } }';

/**
 * (11) GraphQL vs REST on the monolith: an order with its lines' product names, its payment and its
 * shipment, asked one request at a time, as `GET /orders/:id/details` (the edge composes it by
 * hand) and as the GraphQL order query (planned across the ordering, catalog, payments and
 * shipping subgraphs, in-process), in alternating rounds. Latency per request (p50, p99) and the
 * shop process's CPU per request.
 */
export async function benchGraphql(): Promise<Record<string, unknown>> {
  const database = await startBenchDatabase('graphql', 'FICUS_BENCH_GRAPHQL_PG_PORT');
  try {
    const shop = await startShopProcess(await database.shopDatabase('ficus_graphql'), { LOG_HTTP_REQUESTS: 'false' });
    try {
      const { token } = await signUp(shop.baseUrl);
      const { orderId } = (await post(
        shop.baseUrl,
        '/orders',
        {
          items: [
            { sku: 'FICUS-ELASTICA', quantity: 1 },
            { sku: 'FICUS-LYRATA', quantity: 2 },
          ],
          paymentToken: 'tok_visa',
        },
        token,
      )) as { orderId: string };
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const rest = () => fetch(`${shop.baseUrl}/orders/${orderId}/details`, { headers });
      const body = JSON.stringify({ query: ORDER_QUERY, variables: { id: orderId } });
      const graphql = () => fetch(`${shop.baseUrl}/graphql`, { method: 'POST', headers, body });
      await expectAnswers(rest, graphql);

      const pid = shop.child.pid!;
      const samples = { rest: [] as number[], graphql: [] as number[] };
      const cpu = { rest: [] as number[], graphql: [] as number[] };
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? (['rest', 'graphql'] as const) : (['graphql', 'rest'] as const);
        for (const which of order) {
          const ask = which === 'rest' ? rest : graphql;
          const before = ticksOf(pid)!.own;
          for (let i = 0; i < READS; i++) {
            const started = performance.now();
            const answer = await ask();
            await answer.text();
            samples[which].push(performance.now() - started);
          }
          cpu[which].push((seconds(ticksOf(pid)!.own - before) * 1_000) / READS);
        }
      }
      const ms = (value: number) => Math.round(value * 100) / 100;
      const figures = {
        reads: READS,
        rounds: ROUNDS,
        restP50Ms: ms(percentile(samples.rest, 50)),
        graphqlP50Ms: ms(percentile(samples.graphql, 50)),
        restP99Ms: ms(percentile(samples.rest, 99)),
        graphqlP99Ms: ms(percentile(samples.graphql, 99)),
        restCpuMsPerRequest: ms(median(cpu.rest)),
        graphqlCpuMsPerRequest: ms(median(cpu.graphql)),
        p50Ratio: ms(percentile(samples.graphql, 50) / percentile(samples.rest, 50)),
        cpuRatio: ms(median(cpu.graphql) / median(cpu.rest)),
      };
      line('(11) an order with its details, one request at a time, monolith: GraphQL vs GET /orders/:id/details');
      line(
        `    p50 ${figures.graphqlP50Ms} vs ${figures.restP50Ms} ms (×${figures.p50Ratio}), ` +
          `p99 ${figures.graphqlP99Ms} vs ${figures.restP99Ms} ms; shop CPU per request ` +
          `${figures.graphqlCpuMsPerRequest} vs ${figures.restCpuMsPerRequest} ms (×${figures.cpuRatio})`,
      );
      line(`    → ${writeResult('graphql', figures)}`);
      return figures;
    } finally {
      await shop.stop();
    }
  } finally {
    await database.stop();
  }
}

/** Both must answer the order with its names before anything is timed: a fast error measures nothing. */
async function expectAnswers(rest: () => Promise<Response>, graphql: () => Promise<Response>): Promise<void> {
  const details = (await (await rest()).json()) as { order?: { items: Array<{ productName: string }> } };
  const answer = (await (await graphql()).json()) as {
    data?: { order?: { lines: Array<{ product: { name: string } | null }> } };
  };
  const restNames = details.order?.items.map((item) => item.productName).join();
  const graphqlNames = answer.data?.order?.lines.map((item) => item.product?.name).join();
  if (!restNames || restNames !== graphqlNames) {
    throw new Error(`REST and GraphQL answer differently: ${JSON.stringify({ details, answer })}`);
  }
}
