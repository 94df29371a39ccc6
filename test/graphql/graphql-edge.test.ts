import { CatalogContract } from '@contracts/catalog';
import { InventoryContract } from '@contracts/inventory';
import { PaymentsContract } from '@contracts/payments';
import { ShippingContract } from '@contracts/shipping';
import { RateLimiter } from '@apps/http-edge';
import { ShopClient } from '../support/http-client';
import { RawRequest } from '../support/raw-request';
import { scrapeMetrics } from '../support/metrics-scrape';
import { productionEnv, startShop, type RunningShop } from '../support/shop';

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

  it("adds the order's payment and shipment from their subgraphs; an order that never shipped has none, and no error", async () => {
    const query = 'query ($id: ID!) { order(id: $id) { status payment { status failureReason } shipment { status } } }';
    const paid = await customer.finalOrder(
      (await customer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 1 }])).body.orderId,
      30_000,
    );
    const declined = await customer.finalOrder(
      (await customer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 1 }], 'tok_decline')).body.orderId,
      30_000,
    );
    const answers = await Promise.all([paid, declined].map((order) => customer.graphql(query, { id: order.id })));
    expect(answers.map((answer) => answer.body)).toEqual([
      {
        data: {
          order: {
            status: 'CONFIRMED',
            payment: { status: 'COMPLETED', failureReason: null },
            shipment: { status: 'CREATED' },
          },
        },
      },
      {
        data: {
          order: { status: 'FAILED', payment: { status: 'FAILED', failureReason: 'card-declined' }, shipment: null },
        },
      },
    ]);
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
    // Nor through federation's entity lookup, which the supergraph does not expose to clients.
    const byKey = await stranger.graphql(
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id status } } }',
      { r: [{ __typename: 'Order', id: placed.body.orderId }] },
    );
    expect(byKey.body.data ?? null).toBeNull();
    expect(byKey.body.errors![0].extensions).toMatchObject({ code: 'invalid-query', status: 400 });
    expect(theirs.body).toEqual({
      data: { order: null },
      errors: [expect.objectContaining({ path: ['order'], extensions: { code: rest.body.code, status: 404 } })],
    });
  }, 60_000);

  it("reads a page of orders' payments and shipments in one contract call each, as order(id) reads them one by one", async () => {
    const buyer = await anonymous.signUp();
    const orders = [];
    for (const token of ['tok_visa', 'tok_decline', 'tok_visa']) {
      const placed = await buyer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 1 }], token);
      orders.push(await buyer.finalOrder(placed.body.orderId, 30_000));
    }
    const before = [
      await calls(PaymentsContract, 'getPayments'),
      await calls(ShippingContract, 'getShipments'),
      await calls(PaymentsContract, 'getPayment'),
      await calls(ShippingContract, 'getShipment'),
    ];
    const page = await buyer.graphql<{
      myOrders: { total: number; items: Array<{ id: string; payment: unknown; shipment: unknown }> };
    }>('{ myOrders(pageSize: 10) { total items { id status payment { status } shipment { status } } } }');
    expect(page.body.errors).toBeUndefined();
    // No N+1: three orders, one getPayments and one getShipments, and no call per order.
    expect([
      (await calls(PaymentsContract, 'getPayments')) - before[0],
      (await calls(ShippingContract, 'getShipments')) - before[1],
      (await calls(PaymentsContract, 'getPayment')) - before[2],
      (await calls(ShippingContract, 'getShipment')) - before[3],
    ]).toEqual([1, 1, 0, 0]);
    const one = async (id: string) =>
      (
        await buyer.graphql<{ order: object }>(
          'query ($id: ID!) { order(id: $id) { id status payment { status } shipment { status } } }',
          {
            id,
          },
        )
      ).body.data!.order;
    const newestFirst = [...orders].reverse();
    expect(page.body.data!.myOrders.total).toBe(3);
    expect(page.body.data!.myOrders.items).toEqual(await Promise.all(newestFirst.map((order) => one(order.id))));
    expect(page.body.data!.myOrders.items.map((item) => item.payment)).toEqual([
      { status: 'COMPLETED' },
      { status: 'FAILED' },
      { status: 'COMPLETED' },
    ]);
  }, 90_000);

  it('answers the signed-in customer as `me`, with their orders and notifications joined by id, as REST lists them', async () => {
    const reader = await anonymous.signUp();
    await reader.finalOrder((await reader.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }])).body.orderId, 30_000);
    const rest = {
      orders: await reader.get<{ items: Array<{ orderId: string }>; total: number }>('/customers/me/orders'),
      notifications: await reader.get<{ items: Array<{ id: string; subject: string }>; total: number }>(
        '/notifications',
      ),
    };
    const answer = await reader.graphql<{
      me: {
        id: string;
        orders: { total: number; items: Array<{ id: string }> };
        notifications: { total: number; items: Array<{ id: string; subject: string }> };
      };
    }>('{ me { id orders { total items { id } } notifications { total items { id subject } } } }');
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data!.me).toEqual({
      id: reader.customerId,
      orders: { total: rest.orders.body.total, items: rest.orders.body.items.map((item) => ({ id: item.orderId })) },
      notifications: {
        total: rest.notifications.body.total,
        items: rest.notifications.body.items.map(({ id, subject }) => ({ id, subject })),
      },
    });
    expect(answer.body.data!.me.notifications.total).toBeGreaterThan(0);
    const unsigned = await anonymous.graphql('{ me { id notifications { total } } }');
    expect(unsigned.body).toEqual({
      data: { me: null },
      errors: [expect.objectContaining({ path: ['me'], extensions: { code: 'missing-token', status: 401 } })],
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
    const refused = (path: string) => ({
      code: 'invalid-request',
      status: 422,
      errors: [expect.objectContaining({ path })],
    });
    expect(await codes('{ product(sku: "not a sku") { name } }')).toEqual([refused('sku')]);
    expect(await codes('{ products(pageSize: 101) { total } }')).toEqual([refused('pageSize')]);
    expect(await codes('{ products(page: 0) { total } }')).toEqual([refused('page')]);
  });

  it('refuses, before running them, queries that would beat the limits: aliases, tokens, a batch', async () => {
    const aliases = Array.from({ length: 11 }, (_, i) => `p${i}: products(pageSize: 100) { total }`).join(' ');
    // An alias named __typename counts as any other (graphql-armor lets it pass by default).
    const typenameAlias = `{ __typename: products { total } ${Array.from({ length: 10 }, (_, i) => `p${i}: products { total }`).join(' ')} }`;
    const tokens = `{ products { ${'total '.repeat(1_000)} } }`;
    // No type of the shop nests itself, so a depth bomb is made of fields that do not exist: the
    // depth limit refuses it before the schema is even consulted.
    const deep = `{ ${'a { '.repeat(12)}b${' }'.repeat(12)} }`;
    const refusedDeep = await anonymous.graphql(deep);
    expect(refusedDeep.body.errors![0]).toMatchObject({
      message: expect.stringMatching(/depth limit of 8/),
      extensions: { code: 'invalid-query', status: 400 },
    });
    // Under every limit above, but graphql-js's check that same-named fields merge compares them
    // pairwise: 140 of one name took 70–180 ms of the event loop to validate, a request.
    const repeated = `{ ${'products { items { sku } } '.repeat(140)}}`;
    const throughFragments = `{ ${'...P '.repeat(60)}} fragment P on Query { products { total } }`;
    const throughInline = `{ ${'... on Query { me { id } } '.repeat(60)}}`;
    // 15 of each, but graphql-js compares the 15 × 15 `items` below the 15 `products` pairwise.
    const nested = `{ ${`products { ${'items { sku } '.repeat(15)}} `.repeat(15)}}`;
    for (const query of [repeated, throughFragments, throughInline, nested]) {
      const answer = await anonymous.graphql(query);
      expect(answer.body.data ?? null).toBeNull();
      expect(answer.body.errors![0]).toMatchObject({
        message: expect.stringMatching(/is selected more than 20 times/),
        extensions: { code: 'invalid-query', status: 400 },
      });
    }
    // Fragments that spread twice in each of many nested ones: a million selections from 3 kB, which
    // neither counting nor graphql-js may walk; a cycle through a field; a fragment no one spreads,
    // which graphql-js checks all the same.
    const chain = (levels: number, body: (i: number) => string, root: string) =>
      Array.from({ length: levels }, (_, i) => ` fragment F${i + 1} on Query { ${body(i + 1)} }`).join('') + root;
    const shapes = {
      distinctPaths: chain(
        60,
        (i) => `x: products { ...F${i - 1} } y: me { ...F${i - 1} }`,
        ' { ...F60 } fragment F0 on Query { __typename }',
      ),
      noFields: chain(90, (i) => `...F${i - 1} ...F${i - 1}`, ' { ...F90 } fragment F0 on Query { ...Nope }'),
      cycle: '{ ...G } fragment G on Query { me { ...G } }',
      unused: `{ __typename } fragment U on Query { ${'products { total } '.repeat(160)}}`,
    };
    for (const [shape, query] of Object.entries(shapes)) {
      const answer = await anonymous.graphql(query);
      expect({ shape, data: answer.body.data ?? null, extensions: answer.body.errors![0].extensions }).toEqual({
        shape,
        data: null,
        extensions: expect.objectContaining({ code: 'invalid-query', status: 400 }),
      });
    }
    // A long text (a comment, a string) is few tokens, but Yoga keeps a thousand parsed queries.
    const long = await anonymous.graphql(`# ${'x'.repeat(20_000)}\n{ products { total } }`);
    expect(long.body.data ?? null).toBeNull();
    expect(long.body.errors![0]).toMatchObject({
      message: expect.stringMatching(/longer than 16384 characters/),
      extensions: { code: 'invalid-query', status: 400 },
    });
    // The same field in a few fragments of one selection is a client's usual query.
    const usual = await anonymous.graphql(
      `{ products { ...A ...B total } } fragment A on ProductPage { total items { sku } } fragment B on ProductPage { total }`,
    );
    expect(usual.body.errors).toBeUndefined();
    for (const query of [`{ ${aliases} }`, typenameAlias, tokens]) {
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

  it('answers every malformed request with a code and a 4xx, never a 500 or an internal detail', async () => {
    const post = (body: string, type = 'application/json') =>
      anonymous.request<Record<string, unknown>>('POST', '/graphql', {
        rawBody: body,
        headers: { 'content-type': type },
      });
    const answers = [
      await post('query=%7B%20products%20%7B%20total%20%7D%20%7D', 'application/x-www-form-urlencoded'),
      await post('{ products { total } }', 'application/graphql'),
      await post('{ products { total } }', 'text/plain'),
      await post('{}'),
      await post('{"query": 42}'),
      await post(
        JSON.stringify({ query: 'query ($n: Int!) { products(pageSize: $n) { total } }', variables: { n: '1' } }),
      ),
      await post(JSON.stringify({ query: '{ products { total } }', variables: 'not an object' })),
      await anonymous.get(`/graphql?query=${encodeURIComponent('{ products { total } }')}&variables=%7B`),
      await anonymous.get(`/graphql?query=${encodeURIComponent('{ products { total } }')}&extensions=%5B%5D`),
      await anonymous.get('/graphql'),
    ];
    for (const answer of answers) {
      const text = JSON.stringify(answer.body);
      expect({ text, status: answer.status }).toEqual({ text, status: expect.any(Number) });
      expect(answer.status).toBeLessThan(500);
      expect(text).not.toMatch(/internal|originalError|stack|SyntaxError/);
      const body = answer.body as { code?: string; errors?: Array<{ extensions?: { code?: string } }> };
      const code = body.code ?? body.errors?.[0]?.extensions?.code;
      expect({ text, code }).toEqual({
        text,
        code: expect.stringMatching(/^(unsupported-media-type|malformed-json|invalid-query)$/),
      });
    }
    expect(answers.slice(0, 3).map((answer) => answer.status)).toEqual([415, 415, 415]);
  });

  it("reads a request one way only, and answers Yoga's own refusals as problems, never with a stack", async () => {
    const query = `query=${encodeURIComponent('{ products { total } }')}`;
    // By hand: a fetch sets the Host header itself.
    const raw = async (head: string) => {
      const request = new RawRequest(shop.baseUrl, `${head}Connection: close\r\n\r\n`);
      const ended = new Promise<void>((done) => request.socket.once('close', () => done()));
      await ended;
      const [top, ...rest] = request.received.split('\r\n\r\n');
      return { status: Number(request.status), head: top, body: rest.join('\r\n\r\n') };
    };
    for (const host of [
      'shop:99999',
      'a b',
      'x%zz',
      'x/y',
      'x#',
      'x?y',
      'shop:8080:1',
      '[::1',
      'foo.123',
      '1.2.3.256',
    ]) {
      for (const path of [`/graphql?${query}`, '/catalog/products']) {
        const answer = await raw(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n`);
        expect({ host, path, status: answer.status }).toEqual({ host, path, status: 400 });
        expect(answer.head).toMatch(/content-type: application\/problem\+json/i);
        expect(answer.body).toMatch(/"code":"malformed-host"/);
        expect(answer.body).not.toMatch(/TypeError|node_modules|\bat /);
      }
    }
    for (const host of ['shop:8080', 'localhost', '127.0.0.1:1', '[::1]:443', 'ficus.example.']) {
      expect((await raw(`GET /graphql?${query} HTTP/1.1\r\nHost: ${host}\r\n`)).status).toBe(200);
    }

    const refused = async (answer: Promise<{ status: number; body: unknown }>, status: number, code: string) => {
      const { status: got, body } = await answer;
      expect({ got, body }).toEqual({ got: status, body: expect.objectContaining({ status, code }) });
      // Every problem says what it is and what to do, not a word for all.
      const { title, detail } = body as { title: string; detail: string };
      expect([title, detail]).not.toContain('Error');
      expect(detail).not.toMatch(/cannot be answered/);
    };
    // A parameter given twice would run joined with commas; past 1,000, Express's parser stops reading.
    const swamp = Array.from({ length: 1_000 }, (_, i) => `a${i}=1`).join('&');
    await refused(anonymous.get(`/graphql?${query}&${query}`), 400, 'invalid-query');
    await refused(anonymous.get(`/graphql?${query}&operationName=a&operationName=b`), 400, 'invalid-query');
    await refused(anonymous.get(`/graphql?${swamp}&variables=oops&${query}`), 400, 'too-many-parameters');
    await refused(anonymous.get(`/catalog/products?${swamp}`), 400, 'too-many-parameters');
    // What Yoga itself will not answer: a media type it cannot answer in, a body type it cannot read.
    await refused(
      anonymous.request('GET', `/graphql?${query}`, { headers: { accept: 'text/html' } }),
      406,
      'not-acceptable',
    );
    await refused(
      anonymous.request('POST', '/graphql', {
        rawBody: JSON.stringify({ query: '{ products { total } }' }),
        headers: { 'content-type': 'application/vnd.x+json' },
      }),
      415,
      'unsupported-media-type',
    );
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
    const production = await startShop('graphql_production', { env: productionEnv() });
    try {
      const client = new ShopClient(production.baseUrl);
      const schema = await client.graphql('{ __schema { types { name } } }');
      expect(schema.body.data ?? null).toBeNull();
      expect(schema.body.errors![0].extensions).toMatchObject({ code: 'invalid-query' });
      const type = await client.graphql('{ __type(name: "Order") { fields { name } } }');
      expect(type.body.errors![0].extensions).toMatchObject({ code: 'invalid-query' });
      const typo = await client.graphql('{ prodcts { total } }');
      expect(typo.body.errors![0].message).not.toMatch(/did you mean/i);
      expect((await anonymous.graphql('{ prodcts { total } }')).body.errors![0].message).toMatch(/did you mean/i);
      // A variable's field misspelt is checked as the operation runs, past graphql-armor's rule.
      const PLACE = 'mutation ($i: PlaceOrderInput!) { placeOrder(input: $i) { orderId } }';
      const misspelt = { i: { itemz: [], paymentToken: 'tok_visa' } };
      const said = async (shopClient: ShopClient) => {
        const answer = await shopClient.graphql(PLACE, misspelt);
        expect(answer.body.errors![0]).toMatchObject({ extensions: { code: 'invalid-query', status: 400 } });
        return answer.body.errors!.map((error) => error.message).join('\n');
      };
      const inProduction = await said(client);
      expect(inProduction).toMatch(/"itemz" is not defined/);
      expect(inProduction).not.toMatch(/did you mean/i);
      expect(await said(anonymous)).toMatch(/did you mean "items"/i);
    } finally {
      await production.close();
    }
  }, 120_000);
});

describe('placing an order through GraphQL', () => {
  let shop: RunningShop;
  let customer: ShopClient & { customerId: string };
  const PLACE = `mutation ($input: PlaceOrderInput!, $key: String) {
    placeOrder(input: $input, idempotencyKey: $key) { orderId status replayed order { id status lines { sku quantity } } }
  }`;
  type Placed = { placeOrder: { replayed: boolean; order: { id: string; status: string } } };
  const line = (quantity: number) => ({ items: [{ sku: 'FICUS-ELASTICA', quantity }], paymentToken: 'tok_visa' });
  const orderCount = async () =>
    (await customer.graphql<{ myOrders: { total: number } }>('{ myOrders { total } }')).body.data!.myOrders.total;

  beforeAll(async () => {
    // The shipped orders limit (the suite lifts every limit otherwise): each customer here places fewer.
    shop = await startShop('graphql_mutation', { env: { FICUS_RATE_LIMIT_ORDERS: '10/60s' } });
    customer = await new ShopClient(shop.baseUrl).signUp();
  }, 120_000);
  afterAll(() => shop?.close());

  it('places it as POST /orders does, and the saga confirms it', async () => {
    const placed = await customer.graphql<Placed>(PLACE, { input: line(2) });
    expect(placed.body.errors).toBeUndefined();
    expect(placed.body.data!.placeOrder).toMatchObject({ replayed: false, order: { status: 'PENDING' } });
    const order = await customer.finalOrder(placed.body.data!.placeOrder.order.id, 30_000);
    expect(order.status).toBe('CONFIRMED');
  }, 60_000);

  it('keeps the idempotency key: the same order again, refused for another body', async () => {
    const key = `gql-${Date.now()}`;
    const first = await customer.graphql<Placed>(PLACE, { input: line(1), key });
    const again = await customer.graphql<Placed>(PLACE, { input: line(1), key });
    expect(again.body.data!.placeOrder).toMatchObject({
      replayed: true,
      order: { id: first.body.data!.placeOrder.order.id },
    });
    const rest = await customer.post<{ code: string }>('/orders', line(3), { 'idempotency-key': key });
    const other = await customer.graphql<Placed>(PLACE, { input: line(3), key });
    expect(other.body.errors!.map((error) => error.extensions)).toEqual([
      { code: rest.body.code, status: rest.status },
    ]);
    expect(rest.body.code).toBe('idempotency-key-reused');
    const badKey = await customer.graphql<Placed>(PLACE, { input: line(1), key: 'with space' });
    expect(badKey.body.errors![0].extensions).toMatchObject({ code: 'invalid-idempotency-key', status: 400 });
  }, 60_000);

  it("refuses what REST refuses, with REST's codes, and places nothing", async () => {
    const before = await orderCount();
    const anonymous = await new ShopClient(shop.baseUrl).graphql(PLACE, { input: line(1) });
    expect(anonymous.body.errors![0].extensions).toEqual({ code: 'missing-token', status: 401 });
    const zero = await customer.graphql(PLACE, { input: line(0) });
    expect(zero.body.errors![0].extensions).toMatchObject({
      code: 'validation-failed',
      status: 422,
      errors: [expect.objectContaining({ path: 'input.items.0.quantity' })],
    });
    const unknownField = await customer.graphql(PLACE, { input: { ...line(1), coupon: 'FREE' } });
    expect(unknownField.body.errors![0].extensions).toMatchObject({ code: 'invalid-query', status: 400 });
    expect(await orderCount()).toBe(before);
  });

  it('refuses a NUL in any spelling: a GraphQL escape in the query, a JSON escape in the variables', async () => {
    const before = await orderCount();
    const escaped = await customer.request('POST', '/graphql', {
      rawBody: JSON.stringify({
        query: `mutation { placeOrder(input: { items: [{ sku: "FICUS-ELASTICA", quantity: 1 }], paymentToken: "tok\\u0000" }) { replayed } }`,
      }),
    });
    expect(escaped.body).toMatchObject({ errors: [{ extensions: { code: 'malformed-text', status: 400 } }] });
    const inVariables = await customer.graphql(PLACE, { input: { ...line(1), paymentToken: 'tok\u0000' } });
    expect(inVariables.status).toBe(400);
    expect(inVariables.body).toMatchObject({ code: 'malformed-text' });
    expect(await orderCount()).toBe(before);
  });

  it("counts an order placed here as a POST /orders: aliases buy no more than REST's limit", async () => {
    // Windows are fixed (aligned to the epoch): held one second into a minute, so that the eleventh
    // order never falls into the next window on a slow machine.
    const limiter = shop.app.get(RateLimiter);
    limiter.useClock({ now: () => new Date(Date.UTC(2031, 0, 1, 0, 0, 1)) });
    try {
      const buyer = await new ShopClient(shop.baseUrl).signUp();
      const aliased = Array.from({ length: 10 }, (_, i) => `o${i}: placeOrder(input: $input) { orderId }`).join(' ');
      const ten = await buyer.graphql<Record<string, { orderId: string } | null>>(
        `mutation ($input: PlaceOrderInput!) { ${aliased} }`,
        { input: line(1) },
      );
      expect(ten.body.errors).toBeUndefined();
      expect(Object.values(ten.body.data!).filter((placed) => placed?.orderId)).toHaveLength(10);
      const rest = await buyer.post<{ code: string }>('/orders', line(1));
      expect([rest.status, rest.body.code]).toEqual([429, 'rate-limited']);
      const more = await buyer.graphql(PLACE, { input: line(1) });
      expect(more.body.errors![0].extensions).toMatchObject({ code: 'rate-limited', status: 429 });
    } finally {
      limiter.useClock({ now: () => undefined }); // the store's own clock again
    }
  }, 60_000);

  it('takes no mutation by GET', async () => {
    const answer = await customer.get(
      `/graphql?query=${encodeURIComponent(`mutation { placeOrder(input: { items: [], paymentToken: "t" }) { replayed } }`)}`,
    );
    expect(answer.status).toBe(405);
    expect(answer.body).toMatchObject({ errors: [{ extensions: { code: 'invalid-query', status: 405 } }] });
  });
});
