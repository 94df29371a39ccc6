import { line, round2, median, percentile, writeResult } from './measure';
import { seconds, ticksOf } from './process-cpu';
import { scaled } from './bench-scale';
import { placeOne, ShopBench, type Shop, type TopologyName } from './topology-shop';

const READS = scaled(300, 20);
const ROUNDS = scaled(4, 2);

/** What `GET /orders/:id/details` answers: the order, its lines' product names, its payment and shipment. */
const ORDER_QUERY =
  'query ($id: ID!) { order(id: $id) { id status total { amountMinor currency } ' +
  'lines { sku quantity unitPrice { amountMinor } product { name } } ' +
  'payment { status amount { amountMinor } providerReference } shipment { trackingNumber status } } }';

type Api = 'rest' | 'graphql';

/** One topology's figures: latency per request and CPU per request (every ficus process, and PostgreSQL). */
interface TopologyFigures {
  restP50Ms: number;
  graphqlP50Ms: number;
  restP99Ms: number;
  graphqlP99Ms: number;
  /** ficus processes + PostgreSQL, per request. */
  restCpuMsPerRequest: number;
  graphqlCpuMsPerRequest: number;
  p50Ratio: number;
  cpuRatio: number;
}

/**
 * (11) GraphQL vs REST, monolith and split, each as processes: an order with its lines' product
 * names, its payment and its shipment, asked one request at a time, as `GET /orders/:id/details`
 * (the edge composes it by hand) and as the GraphQL order query (planned across the ordering,
 * catalog, payments and shipping subgraphs), in alternating rounds. Latency per request (p50,
 * p99) and the CPU per request of every process of the shop and of PostgreSQL. The two
 * topologies run one after the other, never side by side.
 */
export async function benchGraphql(): Promise<Record<string, unknown>> {
  const bench = await ShopBench.open('graphql', 'FICUS_BENCH_GRAPHQL_PG_PORT');
  try {
    const byTopology = {} as Record<TopologyName, TopologyFigures>;
    for (const name of ['monolith', 'split'] as const) {
      const shop = await bench.start(name);
      try {
        byTopology[name] = await measure(shop, bench);
      } finally {
        await shop.launched.stop();
      }
    }
    const figures = {
      reads: READS,
      rounds: ROUNDS,
      ...byTopology,
      splitVsMonolith: {
        graphqlP50: ratio(byTopology.split.graphqlP50Ms, byTopology.monolith.graphqlP50Ms),
        graphqlCpu: ratio(byTopology.split.graphqlCpuMsPerRequest, byTopology.monolith.graphqlCpuMsPerRequest),
      },
    };
    line('(11) an order with its details, one request at a time: GraphQL vs GET /orders/:id/details');
    for (const name of ['monolith', 'split'] as const) {
      const side = byTopology[name];
      line(
        `    ${name.padEnd(8)} p50 ${side.graphqlP50Ms} vs ${side.restP50Ms} ms (×${side.p50Ratio}), ` +
          `p99 ${side.graphqlP99Ms} vs ${side.restP99Ms} ms; CPU per request (processes + PostgreSQL) ` +
          `${side.graphqlCpuMsPerRequest} vs ${side.restCpuMsPerRequest} ms (×${side.cpuRatio})`,
      );
    }
    line(
      `    GraphQL split vs monolith: p50 ×${figures.splitVsMonolith.graphqlP50}, ` +
        `CPU per request ×${figures.splitVsMonolith.graphqlCpu}`,
    );
    line(`    → ${writeResult('graphql', figures)}`);
    return figures;
  } catch (error) {
    bench.printOutputs();
    throw error;
  } finally {
    await bench.close();
  }
}

async function measure(shop: Shop, bench: ShopBench): Promise<TopologyFigures> {
  const orderId = await placeOne(shop);
  const base = shop.launched.edgeUrl;
  const headers = { authorization: `Bearer ${shop.token}`, 'content-type': 'application/json' };
  const body = JSON.stringify({ query: ORDER_QUERY, variables: { id: orderId } });
  const ask: Record<Api, () => Promise<Response>> = {
    rest: () => fetch(`${base}/orders/${orderId}/details`, { headers }),
    graphql: () => fetch(`${base}/graphql`, { method: 'POST', headers, body }),
  };
  await expectAnswers(ask.rest, ask.graphql);

  const pids = [...shop.launched.processes.values()].map((process) => process.child.pid!);
  const ficusTicks = () => pids.reduce((sum, pid) => sum + (ticksOf(pid)?.own ?? 0), 0);
  const samples: Record<Api, number[]> = { rest: [], graphql: [] };
  const cpu: Record<Api, number[]> = { rest: [], graphql: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order: readonly Api[] = round % 2 === 0 ? ['rest', 'graphql'] : ['graphql', 'rest'];
    for (const api of order) {
      const before = { ficus: ficusTicks(), postgres: await bench.postgres.snapshot() };
      for (let i = 0; i < READS; i++) {
        const started = performance.now();
        const answer = await ask[api]();
        await answer.text();
        if (answer.status !== 200) throw new Error(`${api}: ${answer.status}`);
        samples[api].push(performance.now() - started);
      }
      const postgres = bench.postgres.ticksBetween(before.postgres, await bench.postgres.snapshot(), shop.databases);
      cpu[api].push((seconds(ficusTicks() - before.ficus + postgres) * 1_000) / READS);
    }
  }
  return {
    restP50Ms: round2(percentile(samples.rest, 50)),
    graphqlP50Ms: round2(percentile(samples.graphql, 50)),
    restP99Ms: round2(percentile(samples.rest, 99)),
    graphqlP99Ms: round2(percentile(samples.graphql, 99)),
    restCpuMsPerRequest: round2(median(cpu.rest)),
    graphqlCpuMsPerRequest: round2(median(cpu.graphql)),
    p50Ratio: ratio(percentile(samples.graphql, 50), percentile(samples.rest, 50)),
    cpuRatio: ratio(median(cpu.graphql), median(cpu.rest)),
  };
}

function ratio(a: number, b: number): number {
  return round2(a / b);
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
