import { ShopClient } from '../support/http-client';
import { eventually } from '../support/eventually';
import { startShopProcess, type ShopProcess } from '../support/shop-process';
import { freshDatabase } from '../support/test-database';

/** The process's JSON log lines (anything that is not JSON fails the test: logs are JSON only). */
function logLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a log line that is not JSON: ${line}`);
      }
    });
}

describe('logs of the shop process', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let shop: ShopProcess | undefined;

  beforeAll(async () => {
    database = await freshDatabase('logs');
    shop = await startShopProcess(database.config, { LOG_LEVEL: 'info', LOG_HTTP_REQUESTS: 'true' });
  });
  afterAll(async () => {
    await shop?.stop();
    await database?.drop();
  });

  it('are JSON lines; a request line carries its trace, span and request ids; work for an event its module and order; no secret is ever written', async () => {
    const password = 'hunter2-very-secret-password';
    const customer = await new ShopClient(shop!.baseUrl).signUp(undefined, password);
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const answer = await customer.request('GET', '/customers/me/orders', {
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01`, 'x-request-id': 'logs-test-request' },
    });
    expect(answer.status).toBe(200);
    // A failing request is logged with its details (a 404 for an unknown order).
    await customer.get('/orders/00000000-0000-4000-8000-000000000000');
    // A token in a query string (a client's mistake, or a link someone shared) is never written.
    const queryToken = `query-token-${Date.now()}`;
    await customer.get(`/customers/me/orders?access_token=${queryToken}`);

    const line = await eventually(
      () => logLines(shop!.output()).find((l) => (l.req as { id?: string } | undefined)?.id === 'logs-test-request'),
      {
        until: (found) => found !== undefined,
        what: 'the request is logged',
      },
    );
    expect(line).toMatchObject({
      trace_id: expect.stringMatching(/^[\da-f]{32}$/),
      span_id: expect.stringMatching(/^[\da-f]{16}$/),
    });
    // The request's own trace: a client's traceparent is linked, never continued (docs/security.md).
    expect(line!.trace_id).not.toBe(traceId);
    expect(line!.span_id).not.toBe('b7ad6b7169203331');

    // Work done for an event names its module and the order it is about: the email it queues.
    const placed = await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }]);
    expect((await customer.finalOrder(placed.body.orderId)).status).toBe('CONFIRMED');
    const email = await eventually(
      () => logLines(shop!.output()).find((l) => l.msg === 'email queued' && l.order_id === placed.body.orderId),
      {
        until: (found) => found !== undefined,
        what: 'the email is logged',
      },
    );
    expect(email).toMatchObject({ module: 'notifications', trace_id: expect.stringMatching(/^[\da-f]{32}$/) });
    // Its send names the notification, and no address (logs reach more people than the mailbox does).
    const sent = await eventually(
      () =>
        logLines(shop!.output()).find(
          (l) => l.msg === 'email sent (to the log only)' && l.notification === email!.notification,
        ),
      { until: (found) => found !== undefined, what: 'the send is logged' },
    );
    expect(JSON.stringify(sent)).not.toContain('@');

    const output = shop!.output();
    expect(output).not.toContain(password);
    expect(output).not.toContain(customer.accessToken!);
    expect(output).not.toContain(queryToken);
    expect(output).toContain('[redacted]'); // the Authorization header was there, and is censored
  });
});
