import { randomBytes } from 'node:crypto';
import { CatalogContract } from '@contracts/catalog';
import { InventoryContract } from '@contracts/inventory';
import { ShopClient } from '../support/http-client';
import { scrapeMetrics } from '../support/metrics-scrape';
import { startShop, type RunningShop } from '../support/shop';

/**
 * `POST /graphql` on the monolith: the shop's supergraph (catalog, inventory, ordering subgraphs)
 * answers what REST answers, joined by key in one query, with REST's rules and error codes.
 */
describe('GraphQL on the monolith', () => {
  let shop: RunningShop;
  let anonymous: ShopClient;
  let customer: ShopClient & { customerId: string };

  beforeAll(async () => {
    shop = await startShop('graphql_edge');
    anonymous = new ShopClient(shop.baseUrl);
    customer = await anonymous.signUp();
  }, 120_000);
  afterAll(() => shop?.close());

  const calls = async (contract: { name: string }, method: string) =>
    (await scrapeMetrics(shop.operationsUrl))
      .find('ficus_contract_calls_total', { contract: contract.name, method })
      .reduce((sum, sample) => sum + sample.value, 0);

  it('answers a page of products with their stock, as REST does', async () => {
    const rest = await anonymous.get<{ items: Array<{ sku: string; name: string; price: unknown; stock: unknown }> }>(
      '/catalog/products?pageSize=3&withStock=true',
    );
    const answer = await anonymous.graphql<{ products: { items: unknown[]; total: number } }>(
      '{ products(pageSize: 3) { total items { sku name price { amountMinor currency } stock { available } } } }',
    );
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data!.products.items).toEqual(
      rest.body.items.map(({ sku, name, price, stock }) => ({ sku, name, price, stock })),
    );
  });

  it("joins an order's lines with catalog and inventory by sku, one contract call each for all lines", async () => {
    const placed = await customer.placeOrder([
      { sku: 'FICUS-ELASTICA', quantity: 1 },
      { sku: 'FICUS-LYRATA', quantity: 2 },
      { sku: 'FICUS-BENJAMINA', quantity: 1 },
    ]);
    const order = await customer.finalOrder(placed.body.orderId, 30_000);
    const details = await customer.get<{ order: { items: Array<{ sku: string; productName: string }> } }>(
      `/orders/${order.id}/details`,
    );
    const [products, stock] = [
      await calls(CatalogContract, 'getProducts'),
      await calls(InventoryContract, 'checkStock'),
    ];
    const answer = await customer.graphql<{
      order: { id: string; status: string; lines: Array<{ sku: string; quantity: number; product: unknown }> };
    }>(
      `query Order($id: ID!) { order(id: $id) { id status total { amountMinor }
         lines { sku quantity product { sku name stock { available } } } } }`,
      { id: order.id },
    );
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data!.order).toMatchObject({ id: order.id, status: order.status });
    expect(answer.body.data!.order.lines.map((line) => [line.sku, line.quantity])).toEqual([
      ['FICUS-ELASTICA', 1],
      ['FICUS-LYRATA', 2],
      ['FICUS-BENJAMINA', 1],
    ]);
    expect(answer.body.data!.order.lines.map((line) => (line.product as { name: string }).name)).toEqual(
      details.body.order.items.map((item) => item.productName),
    );
    for (const line of answer.body.data!.order.lines) {
      expect((line.product as { stock: { available: number } }).stock.available).toBeGreaterThanOrEqual(0);
    }
    // No N+1: three lines, one getProducts and one checkStock.
    expect([
      (await calls(CatalogContract, 'getProducts')) - products,
      (await calls(InventoryContract, 'checkStock')) - stock,
    ]).toEqual([1, 1]);
  }, 60_000);

  it("lists the signed-in customer's orders; another customer's order is not found, as in REST", async () => {
    const placed = await customer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 1 }]);
    const mine = await customer.graphql<{ myOrders: { items: Array<{ id: string }>; total: number } }>(
      '{ myOrders(pageSize: 100) { total items { id status total { amountMinor } itemCount } } }',
    );
    expect(mine.body.data!.myOrders.items.map((item) => item.id)).toContain(placed.body.orderId);
    const stranger = await anonymous.signUp();
    const theirs = await stranger.graphql('query ($id: ID!) { order(id: $id) { id status } }', {
      id: placed.body.orderId,
    });
    const rest = await stranger.get(`/orders/${placed.body.orderId}`);
    expect(rest.status).toBe(404);
    expect(theirs.body).toEqual({
      data: { order: null },
      errors: [expect.objectContaining({ path: ['order'], extensions: { code: rest.body.code, status: 404 } })],
    });
  }, 60_000);

  it('asks for a token where REST does, and refuses a bad one with the same 401 problem', async () => {
    const unsigned = await anonymous.graphql('{ myOrders { total } }');
    expect(unsigned.status).toBe(200);
    expect(unsigned.body.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'missing-token', status: 401 } }),
    ]);
    const forged = await anonymous.withToken('eyJhbGciOiJub25lIn0.e30.').graphql('{ products { total } }');
    expect(forged.status).toBe(401);
    expect(forged.body).toMatchObject({ code: 'invalid-token', status: 401 });
  });

  it("tells a contract's errors by the REST problem's code: unknown sku, a sku out of shape, a page too large", async () => {
    const codes = async (query: string) =>
      (await anonymous.graphql(query)).body.errors?.map((error) => error.extensions);
    expect(await codes('{ product(sku: "NO-SUCH-PLANT") { name } }')).toEqual([{ code: 'unknown-sku', status: 404 }]);
    // The contract's own check answers, as it does for a REST body: the REST path's check is the edge's.
    const refused = { code: 'invalid-request', status: 422 };
    expect(await codes('{ product(sku: "not a sku") { name } }')).toEqual([refused]);
    expect(await codes('{ products(pageSize: 101) { total } }')).toEqual([refused]);
    expect(await codes('{ products(page: 0) { total } }')).toEqual([refused]);
  });

  it('refuses, before running them, queries that would beat the limits: aliases, tokens, a batch', async () => {
    const aliases = Array.from({ length: 11 }, (_, i) => `p${i}: products(pageSize: 100) { total }`).join(' ');
    const tokens = `{ products { ${'total '.repeat(1_000)} } }`;
    for (const query of [`{ ${aliases} }`, tokens]) {
      const answer = await anonymous.graphql(query);
      expect(answer.body.data ?? null).toBeNull();
      expect(answer.body.errors![0].extensions).toMatchObject({ code: 'invalid-query', status: 400 });
    }
    const before = await calls(CatalogContract, 'listProducts');
    const batch = await anonymous.request('POST', '/graphql', {
      body: Array.from({ length: 50 }, () => ({ query: '{ products { total } }' })),
    });
    expect(batch.status).toBeGreaterThanOrEqual(400);
    expect(batch.status).toBeLessThan(500);
    expect(await calls(CatalogContract, 'listProducts')).toBe(before);
  });

  it('serves queries by GET too, and introspection outside production', async () => {
    const answer = await anonymous.get<{ data: { product: { name: string } } }>(
      `/graphql?query=${encodeURIComponent('{ product(sku: "FICUS-ELASTICA") { name } }')}`,
    );
    expect(answer.body.data.product.name).toBe('Rubber plant');
    const schema = await anonymous.graphql<{ __schema: { types: Array<{ name: string }> } }>(
      '{ __schema { types { name } } }',
    );
    expect(schema.body.data!.__schema.types.map((type) => type.name)).toEqual(
      expect.arrayContaining(['Product', 'Order', 'Stock']),
    );
  });

  it('has no introspection and no field suggestions in a shop started with NODE_ENV=production', async () => {
    const production = await startShop('graphql_production', {
      env: {
        NODE_ENV: 'production',
        FICUS_KEY_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
        FICUS_FAKE_PAYMENTS: 'allow-in-production',
      },
    });
    try {
      const client = new ShopClient(production.baseUrl);
      const schema = await client.graphql('{ __schema { types { name } } }');
      expect(schema.body.data ?? null).toBeNull();
      expect(schema.body.errors![0].extensions).toMatchObject({ code: 'invalid-query' });
      const typo = await client.graphql('{ prodcts { total } }');
      expect(typo.body.errors![0].message).not.toMatch(/did you mean/i);
      expect((await anonymous.graphql('{ prodcts { total } }')).body.errors![0].message).toMatch(/did you mean/i);
    } finally {
      await production.close();
    }
  }, 120_000);
});
