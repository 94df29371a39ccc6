import {
  buildModuleGraph,
  GRAPH_SOURCE_FOLDERS,
  readSourceTree,
  REPOSITORY_ROOT,
  sampleCallRates,
  type CallRates,
  type ExtractionPlan,
} from '@infra/module-graph';
import { withDatabase } from '@infra/persistence';
import { contextDeclarations } from '../../apps/cli/src/context-declarations';
import { ficus } from '../flags/flags-cli';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';

/**
 * `ficus graph --metrics` and `ficus plan --metrics --database-url` against a real monolith: an
 * order placed through the API shows up as calls on the ordering → catalog edge.
 */

describe('ficus graph and plan with the metrics of a running monolith', () => {
  let shop: RunningShop;
  let customer: ShopClient;

  beforeAll(async () => {
    shop = await startShop('migration_graph');
    customer = await new ShopClient(shop.baseUrl).signUp();
    const placed = await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }]);
    expect(placed.status).toBe(202);
    await customer.finalOrder(placed.body.orderId);
  });

  afterAll(() => shop?.close());

  it('graph --json: the order’s price lookup is counted on ordering → catalog', async () => {
    const { code, out } = await ficus(['graph', '--json', '--metrics', shop.operationsUrl, '--sample-seconds', '0']);
    const graph = JSON.parse(out) as { calls: CallRates };

    expect(code).toBe(0);
    expect(graph.calls.sources).toEqual([shop.operationsUrl]);
    // ordering prices the order through catalog.getProducts; the edge's order details call it too,
    // and the metric has no caller label: so the count is marked shared.
    expect(graph.calls.edges['ordering→catalog']).toMatchObject({ attribution: 'shared', errors: 0 });
    expect(graph.calls.edges['ordering→catalog'].total).toBeGreaterThanOrEqual(1);
    expect(graph.calls.edges['edge→ordering'].byMethod.placeOrderWithPaymentMethod).toBe(1);
    expect(graph.calls.edges['edge→payments'].byMethod.holdPaymentMethod).toBe(1);
    expect(graph.calls.edges['edge→identity'].byMethod).toMatchObject({ register: 1, login: 1 });
  });

  it('graph text: the edge line carries its count', async () => {
    const { code, out } = await ficus(['graph', '--metrics', `${shop.operationsUrl}/metrics`, '--sample-seconds', '0']);

    expect(code).toBe(0);
    expect(out).toMatch(/ordering → catalog +catalog\.v1\.CatalogService: getProducts {2}\[\d+ calls?, shared\]\n/);
    expect(out).toMatch(/edge → ordering .*\[\d+ calls?\]\n/);
    expect(out).toContain(`calls: ficus_contract_calls_total from ${shop.operationsUrl}/metrics, totals since start`);
  });

  it('a rate: calls per second between two scrapes with an order placed in between', async () => {
    const graph = buildModuleGraph(
      contextDeclarations(REPOSITORY_ROOT),
      readSourceTree(REPOSITORY_ROOT, GRAPH_SOURCE_FOLDERS),
    );
    let scrapes = 0;
    const scrapeThenOrder = async (url: string) => {
      const text = await (await fetch(url)).text();
      scrapes += 1;
      if (scrapes === 1) {
        const placed = await customer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 1 }]);
        expect(placed.status).toBe(202);
      }
      return text;
    };

    const rates = await sampleCallRates(graph, [shop.operationsUrl], 0.5, scrapeThenOrder);

    expect(scrapes).toBe(2);
    expect(rates.edges['edge→ordering'].perSecond).toBeGreaterThan(0);
    expect(rates.edges['ordering→catalog'].perSecond).toBeGreaterThan(0);
    expect(rates.edges['edge→notifications'].perSecond).toBe(0);
  });

  it('plan --json weighs the measured calls and each schema’s size', async () => {
    const databaseUrl = withDatabase(shop.database.adminUrl, shop.database.database);
    const { code, out, err } = await ficus([
      'plan',
      '--json',
      '--metrics',
      shop.operationsUrl,
      '--sample-seconds',
      '0',
      '--database-url',
      databaseUrl,
    ]);
    const plan = JSON.parse(out) as ExtractionPlan;

    expect({ code, err }).toEqual({ code: 0, err: '' });
    const catalog = plan.ranking.find((entry) => entry.context === 'catalog')!;
    expect(catalog.facts.incomingCalls).toBeGreaterThanOrEqual(1);
    expect(catalog.factors.find((factor) => factor.factor === 'incoming-sync')!.explanation).toMatch(
      /metrics: \d+ calls from contexts since start/,
    );
    for (const entry of plan.ranking) {
      expect(entry.facts.dataBytes).toEqual(expect.any(Number));
      expect(entry.facts.dataBytes as number).toBeGreaterThan(0);
      expect(entry.factors.find((factor) => factor.factor === 'data-size')!.explanation).toMatch(
        new RegExp(`^schema "${entry.context}" holds [\\d.]+ (kB|MB|B)`),
      );
    }
    expect(plan.notes).toEqual([]);
    expect(plan.firstStep?.command).toBe(`ficus extract ${plan.ranking[0].context}`);
  });
});
