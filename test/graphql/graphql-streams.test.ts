import { connect, type Socket } from 'node:net';
import { ShopClient, type GraphqlAnswer, type GraphqlStream } from '../support/http-client';
import { eventually } from '../support/eventually';
import { scrapeMetrics } from '../support/metrics-scrape';
import { startShop, type RunningShop } from '../support/shop';

const ORDER_UPDATED = `subscription Updates($id: ID!) {
  orderUpdated(id: $id) { id status total { amountMinor } timeline { step } lines { sku product { name } } }
}`;

type Updated = {
  orderUpdated: {
    id: string;
    status: string;
    timeline: Array<{ step: string }>;
    lines: Array<{ sku: string; product: { name: string } }>;
  };
};

/**
 * `orderUpdated` over server-sent events on the monolith: an order's saga as it moves, with the
 * owner rule, and streams on a budget of their own (per process, per caller, a longest life),
 * not on the admission gate's slots.
 */
describe('GraphQL order updates as server-sent events', () => {
  let shop: RunningShop;
  let anonymous: ShopClient;
  let customer: ShopClient & { customerId: string };
  let closed = false;

  beforeAll(async () => {
    shop = await startShop('graphql_streams', {
      env: {
        FICUS_FAKE_PAYMENT_SLOW_MS: '8000', // tok_slow keeps an order PENDING past every stream here
        FICUS_GRAPHQL_STREAMS: '3',
        FICUS_GRAPHQL_STREAMS_PER_CALLER: '2',
        FICUS_GRAPHQL_STREAM_MAX_MS: '3000',
        FICUS_HTTP_MAX_CONCURRENT: '2',
      },
    });
    anonymous = new ShopClient(shop.baseUrl);
    customer = await anonymous.signUp();
  }, 120_000);
  afterAll(async () => {
    if (!closed) await shop?.close();
  });

  const slowOrder = async (client: ShopClient) => {
    const placed = await client.post<{ orderId: string }>(
      '/orders',
      { items: [{ sku: 'FICUS-LYRATA', quantity: 1 }], paymentToken: 'tok_slow' },
      { 'idempotency-key': `slow-${Math.random()}` },
    );
    expect(placed.status).toBe(202);
    return placed.body.orderId;
  };

  it("streams an order from PENDING to CONFIRMED with its saga's steps, then completes", async () => {
    const placed = await customer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 2 }]);
    const stream = await customer.graphqlStream<Updated>(ORDER_UPDATED, { id: placed.body.orderId });
    expect(stream.status).toBe(200);
    const results = await stream.rest();
    expect(stream.completed).toBe(true);
    expect(results.every((result) => result.errors === undefined)).toBe(true);
    const updates = results.map((result) => result.data!.orderUpdated);
    expect(updates.at(-1)!.status).toBe('CONFIRMED');
    // Each event is a new step: the timelines grow, and no update repeats the one before.
    const lengths = updates.map((update) => update.timeline.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
    expect(new Set(lengths).size).toBe(lengths.length);
    // The last event is the order as a query answers it once settled.
    const query = await customer.graphql<{ order: unknown }>(
      `query Order($id: ID!) { order(id: $id) { id status total { amountMinor } timeline { step } lines { sku product { name } } } }`,
      { id: placed.body.orderId },
    );
    expect(updates.at(-1)).toEqual(query.body.data!.order);
  });

  it('completes at once, with the order, for an order that has settled already', async () => {
    const placed = await customer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 1 }]);
    await customer.finalOrder(placed.body.orderId, 30_000);
    const stream = await customer.graphqlStream<Updated>(ORDER_UPDATED, { id: placed.body.orderId });
    const results = await stream.rest();
    expect(results.map((result) => result.data?.orderUpdated.status)).toEqual(['CONFIRMED']);
    expect(stream.completed).toBe(true);
  });

  it("tells another customer's order as not found, and opens no stream without a token", async () => {
    const placed = await customer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 1 }]);
    const other = await anonymous.signUp();
    const theirs = await (await other.graphqlStream<Updated>(ORDER_UPDATED, { id: placed.body.orderId })).rest();
    expect(theirs.map((result) => result.errors?.map((error) => error.extensions?.code))).toEqual([
      ['order-not-found'],
    ]);
    const nobody = await anonymous.graphqlStream<Updated>(ORDER_UPDATED, { id: placed.body.orderId });
    expect([nobody.status, nobody.problem?.code]).toEqual([401, 'missing-token']);
  });

  it('serves subscriptions, and only them, as streams: anything else asked either way is refused with a code', async () => {
    const placed = await customer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 1 }]);
    const asJson = await customer.graphql(ORDER_UPDATED, { id: placed.body.orderId });
    expect(asJson.body.errors?.map((error) => error.extensions?.code)).toEqual(['invalid-query']);
    // A query or a mutation asked as a stream would pass the admission gate on the streams' budget.
    const query = await customer.graphqlStream('{ products(pageSize: 1) { total } }');
    const mutation = await customer.graphqlStream(
      'mutation { placeOrder(input: {items: [{sku: "FICUS-LYRATA", quantity: 1}], paymentToken: "tok_visa"}) { orderId } }',
    );
    const unparsable = await customer.graphqlStream('subscription {');
    expect([query, mutation, unparsable].map((refused) => [refused.status, refused.problem?.code])).toEqual([
      [406, 'not-acceptable'],
      [406, 'not-acceptable'],
      [406, 'not-acceptable'],
    ]);
  });

  it("ends a stream at its longest life with a stream-expired error, the order's updates before it", async () => {
    const orderId = await slowOrder(customer);
    const stream = await customer.graphqlStream<Updated>(ORDER_UPDATED, { id: orderId });
    const results = await stream.rest();
    expect(results[0].data!.orderUpdated.status).toBe('PENDING');
    expect(results.at(-1)!.errors?.map((error) => error.extensions?.code)).toEqual(['stream-expired']);
  });

  it('holds streams on their own budget: a few per caller (429), a few per process (503), none of the request slots', async () => {
    const other = await anonymous.signUp();
    const third = await anonymous.signUp();
    const [mine, theirs] = [await slowOrder(customer), await slowOrder(other)];
    const open = [
      await customer.graphqlStream<Updated>(ORDER_UPDATED, { id: mine }),
      await customer.graphqlStream<Updated>(ORDER_UPDATED, { id: mine }),
    ];
    try {
      for (const stream of open) expect((await stream.next())?.data?.orderUpdated.status).toBe('PENDING');

      const oneTooMany = await customer.graphqlStream<Updated>(ORDER_UPDATED, { id: mine });
      expect([oneTooMany.status, oneTooMany.problem?.code]).toEqual([429, 'too-many-streams']);
      // Other spellings of a stream count the same (a GET, another case); a multipart answer is no stream.
      const query = encodeURIComponent(ORDER_UPDATED.replace(/\s+/g, ' ')); // a URL holds no newline
      const variables = encodeURIComponent(JSON.stringify({ id: mine }));
      const byGet = await customer.request<{ code: string }>('GET', `/graphql?query=${query}&variables=${variables}`, {
        headers: { accept: 'Text/Event-Stream' },
      });
      const multipart = await customer.request<{ errors?: Array<{ extensions: { code: string } }> }>(
        'POST',
        '/graphql',
        { body: { query: ORDER_UPDATED, variables: { id: mine } }, headers: { accept: 'multipart/mixed' } },
      );
      expect([byGet.status, byGet.body.code]).toEqual([429, 'too-many-streams']);
      expect(multipart.status).toBe(406);

      open.push(await other.graphqlStream<Updated>(ORDER_UPDATED, { id: theirs }));
      expect((await open[2].next())?.data?.orderUpdated.status).toBe('PENDING');
      const full = await third.graphqlStream<Updated>(ORDER_UPDATED, { id: theirs });
      expect([full.status, full.problem?.code, full.headers.get('retry-after')]).toEqual([503, 'overloaded', '5']);
      const metrics = await scrapeMetrics(shop.operationsUrl);
      expect(metrics.find('ficus_graphql_streams_open', {}).map((sample) => sample.value)).toEqual([3]);
      expect(
        ['process', 'caller'].map(
          (reason) => metrics.find('ficus_graphql_streams_refused_total', { reason })[0]?.value,
        ),
      ).toEqual([1, 2]);

      // Three streams open, two request slots: requests are still served, side by side.
      const answers = await Promise.all([1, 2, 3, 4].map(() => customer.get(`/orders/${mine}`)));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);

      // A caller who hangs up gets their stream back.
      open[0].close();
      const again: GraphqlStream<Updated> = await eventually(
        () => customer.graphqlStream<Updated>(ORDER_UPDATED, { id: mine }),
        {
          until: (stream) => stream.status === 200,
          what: 'a stream is free again once its client left',
        },
      );
      open.push(again);
      expect((await again.next())?.data?.orderUpdated.status).toBe('PENDING');
    } finally {
      for (const stream of open) stream.close();
    }
  });

  it('gives no place to a stream whose caller has not shown a valid token: unfinished bodies and forged tokens hold none', async () => {
    const other = await anonymous.signUp();
    const open = [await customer.graphqlStream<Updated>(ORDER_UPDATED, { id: await slowOrder(customer) })];
    // Two more streams asked for, each never finishing its body: with the one open, as many as the
    // process's three places. Asks are bounded apart (as many as there are places), so they are let in.
    const url = new URL(shop.baseUrl);
    const received: string[] = [];
    const dripping: Socket[] = [];
    for (let n = 0; n < 2; n++) {
      const socket = connect(Number(url.port), url.hostname);
      socket.on('data', (chunk: Buffer) => received.push(chunk.toString()));
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) =>
        socket.write(
          'POST /graphql HTTP/1.1\r\nHost: shop\r\nAccept: text/event-stream\r\n' +
            'Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"query":"',
          () => resolve(),
        ),
      );
      dripping.push(socket);
    }
    try {
      expect(open[0].status).toBe(200);
      const forged = await anonymous.request('POST', '/graphql', {
        body: { query: ORDER_UPDATED, variables: { id: '00000000-0000-4000-8000-000000000000' } },
        headers: { accept: 'text/event-stream', authorization: 'Bearer not.a.token' },
      });
      expect(forged.status).toBe(401);
      // Verified callers still get the two places left: the unfinished asks hold none of them.
      open.push(await other.graphqlStream<Updated>(ORDER_UPDATED, { id: await slowOrder(other) }));
      open.push(await customer.graphqlStream<Updated>(ORDER_UPDATED, { id: await slowOrder(customer) }));
      expect(open.map((stream) => stream.status)).toEqual([200, 200, 200]);
      for (const stream of open) expect((await stream.next())?.data?.orderUpdated.status).toBe('PENDING');
      expect(received).toEqual([]); // nor was an unfinished one refused
    } finally {
      for (const stream of open) stream.close();
      for (const socket of dripping) socket.destroy();
    }
  });

  it('ends every open stream with shutting-down when the process stops, and stops all the same', async () => {
    const orderId = await slowOrder(customer);
    const stream = await customer.graphqlStream<Updated>(ORDER_UPDATED, { id: orderId });
    expect((await stream.next())?.data?.orderUpdated.status).toBe('PENDING');
    const rest = stream.rest();
    closed = true;
    await shop.close();
    const last: GraphqlAnswer<Updated> | undefined = (await rest).at(-1);
    expect(last?.errors?.map((error) => error.extensions?.code)).toEqual(['shutting-down']);
  });
});
