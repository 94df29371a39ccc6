import { InProcessEventTransport } from '@infra/messaging';
import type { Envelope } from '@contracts/kernel';
import { eventually } from '../support/eventually';
import { ShopClient } from '../support/http-client';
import {
  messageWithoutRecipient,
  ORDER_CONFIRMED_CONSUMER,
  shopWithConsole,
  type ShopWithConsole,
} from '../support/console';
import { asAdmin } from '../support/test-database';

interface Letter {
  target: string;
  id: string;
  context: string;
  consumer: string;
  messageId: string;
  reason: string;
  attempts: number;
  replayedBy: string | null;
  payload: { orderId?: string };
}

interface MessagingAnswer {
  contexts: Array<{ context: string; runsIn: string; outbox?: { backlog: number }; deadLetters?: number }>;
  consumers: Array<{ consumer: string; target: string; handled: number; outcomes: Record<string, number> }>;
  lag: unknown[];
  deadLetters: { waiting: Letter[]; replayed: Letter[]; unread: Array<{ target: string; why: string }> };
}

/**
 * The Messaging page's API beside the monolith: outboxes, consumers and dead letters as the
 * process answers them, and a poison message replayed once its cause is gone, in the process
 * that consumes it, as the admin (named on the letter); refused for anyone else, on the console
 * and on the process's operations port alike.
 */
describe("the console's messaging, beside the monolith", () => {
  let running: ShopWithConsole;
  let admin: ShopClient;
  let adminToken: string;
  let customerToken: string;

  beforeAll(async () => {
    running = await shopWithConsole('console_messaging');
    const console = new ShopClient(running.console.url);
    adminToken = (await console.post<{ accessToken: string }>('/api/session', running.admin)).body.accessToken;
    admin = console.withToken(adminToken);
    customerToken = (
      await new ShopClient(running.shop.baseUrl).post<{ accessToken: string }>('/identity/login', running.customer)
    ).body.accessToken;
  }, 120_000);
  afterAll(async () => {
    await running?.close();
  });

  const deliver = (envelope: Envelope) =>
    running.shop.app.get(InProcessEventTransport, { strict: false }).publish([envelope]);
  const messaging = async () => {
    const answer = await admin.get<MessagingAnswer>('/api/messaging');
    expect(answer.status).toBe(200);
    return answer.body;
  };
  const waitingFor = (messageId: string) =>
    eventually(async () => (await messaging()).deadLetters.waiting.find((l) => l.messageId === messageId), {
      until: (letter) => letter !== undefined,
      timeoutMs: 30_000,
      what: `message ${messageId} in the dead letters`,
    }).then((letter) => letter!);
  const emailsOf = (orderId: string) =>
    asAdmin<{ kind: string }>(
      running.shop.database,
      'SELECT kind FROM notifications.notifications WHERE order_id = $1',
      [orderId],
    );
  const cure = async (poison: ReturnType<typeof messageWithoutRecipient>) => {
    await deliver(poison.registered);
    await eventually(
      () =>
        asAdmin(running.shop.database, 'SELECT 1 FROM notifications.recipients WHERE customer_id = $1', [
          poison.customerId,
        ]),
      { until: (rows) => rows.length === 1, what: 'the late registration remembered' },
    );
  };

  it("shows every context's outbox and each consumer's events, from the process's metrics", async () => {
    const customer = await new ShopClient(running.shop.baseUrl).signUp();
    await customer.finalOrder((await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }])).body.orderId);
    const answer = await eventually(messaging, {
      until: (read) => read.consumers.some((c) => c.consumer.startsWith('inventory:') && c.handled > 0),
      what: "inventory's consumers counted",
    });
    expect(answer.contexts.map((c) => [c.context, c.runsIn, typeof c.outbox?.backlog])).toEqual(
      running.topology.modules.map((context) => [context, 'monolith', 'number']),
    );
    expect(answer.consumers.every((c) => c.target === 'monolith')).toBe(true);
    expect(answer.lag).toEqual([]); // no Kafka in one process
    expect(answer.deadLetters.unread).toEqual([]);
  });

  it('lists a poison message with its reason, and replays it once its cause is gone, naming the admin', async () => {
    const poison = messageWithoutRecipient();
    await deliver(poison.confirmed);
    const letter = await waitingFor(poison.confirmed.id);
    expect(letter).toMatchObject({
      target: 'monolith',
      context: 'notifications',
      consumer: ORDER_CONFIRMED_CONSUMER,
      reason: expect.stringMatching(/no address known yet for customer/),
      payload: { orderId: poison.orderId },
      replayedBy: null,
    });
    await eventually(messaging, {
      until: (read) => (read.contexts.find((c) => c.context === 'notifications')?.deadLetters ?? 0) >= 1,
      what: "notifications' dead letters counted in the metrics",
    });

    // Replayed before its cause is gone: it fails again, and says why.
    const early = await admin.post<{ outcome: string }>(`/api/dead-letters/notifications/${letter.id}/replay`, {});
    expect([early.status, early.body.outcome]).toEqual([200, 'failed-again']);
    const again = await waitingFor(poison.confirmed.id);
    expect([again.attempts, again.reason]).toEqual([letter.attempts + 1, expect.stringMatching(/^replay failed: /)]);
    expect(await emailsOf(poison.orderId)).toEqual([]);

    await cure(poison);
    const replayed = await admin.post<{ outcome: string }>(`/api/dead-letters/notifications/${letter.id}/replay`, {});
    expect([replayed.status, replayed.body.outcome]).toEqual([200, 'processed']);
    expect(await emailsOf(poison.orderId)).toEqual([{ kind: 'order-confirmed' }]);
    const after = await messaging();
    expect(after.deadLetters.waiting.find((l) => l.id === letter.id)).toBeUndefined();
    expect(after.deadLetters.replayed.find((l) => l.id === letter.id)?.replayedBy).toBe(running.admin.email);

    // Twice is harmless: the inbox already holds it, no second email.
    const twice = await admin.post<{ outcome: string }>(`/api/dead-letters/notifications/${letter.id}/replay`, {});
    expect([twice.status, twice.body.outcome]).toEqual([200, 'already-processed']);
    expect(await emailsOf(poison.orderId)).toHaveLength(1);
  });

  it("replays all of a context's waiting letters at once", async () => {
    const poisons = [messageWithoutRecipient(), messageWithoutRecipient()];
    for (const poison of poisons) await deliver(poison.confirmed);
    for (const poison of poisons) await waitingFor(poison.confirmed.id);
    for (const poison of poisons) await cure(poison);
    const waiting = (await messaging()).deadLetters.waiting.filter((letter) => letter.context === 'notifications');
    const all = await admin.post<{ outcomes: Record<string, number> }>('/api/dead-letters/notifications/replay', {});
    expect(all.status).toBe(200);
    // Each letter waiting is counted once; both poisons, cured, went through.
    expect(Object.values(all.body.outcomes).reduce((sum, n) => sum + n, 0)).toBe(waiting.length);
    expect(all.body.outcomes.processed).toBeGreaterThanOrEqual(2);
    for (const poison of poisons) expect(await emailsOf(poison.orderId)).toEqual([{ kind: 'order-confirmed' }]);
    const after = (await messaging()).deadLetters.waiting.map((letter) => letter.messageId);
    for (const poison of poisons) expect(after).not.toContain(poison.confirmed.id);
  });

  it('refuses a replay it cannot do with a problem: bad ids, unknown contexts and letters, a consumer gone', async () => {
    const [{ id: orphan }] = await asAdmin<{ id: string }>(
      running.shop.database,
      `INSERT INTO notifications.dead_letters (message_id, consumer, type, version, envelope, reason, attempts)
       VALUES (gen_random_uuid(), 'notifications:retired-event.v1', 'retired-event', 1, '{}', 'planted', 1)
       RETURNING id`,
    );
    for (const [path, status, code] of [
      ['/api/dead-letters/notifications/abc/replay', 400, 'validation-failed'],
      ['/api/dead-letters/notifications/1234567890123456789/replay', 400, 'validation-failed'],
      ['/api/dead-letters/Notifications/1/replay', 400, 'validation-failed'],
      ['/api/dead-letters/billing/1/replay', 404, 'context-not-found'],
      ['/api/dead-letters/notifications/999999999/replay', 404, 'dead-letter-not-found'],
      [`/api/dead-letters/notifications/${orphan}/replay`, 409, 'consumer-not-running'],
    ] as const) {
      const refused = await admin.post<{ code: string; detail: string }>(path, {});
      expect([path, refused.status, refused.body.code, refused.headers.get('content-type')]).toEqual([
        path,
        status,
        code,
        'application/problem+json; charset=utf-8',
      ]);
    }
    const console = new ShopClient(running.console.url);
    expect((await console.post<{ code: string }>('/api/dead-letters/notifications/replay', {})).status).toBe(401);
    const asCustomer = await console.withToken(customerToken).get<{ code: string }>('/api/messaging');
    expect([asCustomer.status, asCustomer.body.code]).toEqual([403, 'not-an-admin']);
    // The one still waiting for a consumer that is gone stays listed, and "replay all" says so.
    const all = await admin.post<{ outcomes: Record<string, number> }>('/api/dead-letters/notifications/replay', {});
    expect(all.body.outcomes['consumer-not-running']).toBe(1);
    await asAdmin(running.shop.database, 'DELETE FROM notifications.dead_letters WHERE id = $1', [orphan]);
  });

  it("answers dead letters on the process's operations port to the shop's admins only", async () => {
    const port = new ShopClient(running.shop.operationsUrl);
    const missing = await port.get<{ code: string }>('/dead-letters');
    expect([missing.status, missing.body.code]).toEqual([401, 'missing-token']);
    const forged = await port.withToken(`${adminToken.slice(0, -4)}AAAA`).get<{ code: string }>('/dead-letters');
    expect([forged.status, forged.body.code]).toEqual([401, 'invalid-token']);
    const customer = await port
      .withToken(customerToken)
      .post<{ code: string }>('/dead-letters/notifications/replay', {});
    expect([customer.status, customer.body.code]).toEqual([403, 'forbidden']);
    const listed = await port.withToken(adminToken).get<{ contexts: string[]; items: unknown[] }>('/dead-letters');
    expect([listed.status, [...listed.body.contexts].sort()]).toEqual([200, [...running.topology.modules].sort()]);

    const asAdminOnPort = port.withToken(adminToken);
    const wrongMethod = await asAdminOnPort.get<{ code: string }>('/dead-letters/notifications/1/replay');
    expect([wrongMethod.status, wrongMethod.headers.get('allow')]).toEqual([405, 'POST']);
    const postList = await asAdminOnPort.post<{ code: string }>('/dead-letters', {});
    expect([postList.status, postList.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const elsewhere = await asAdminOnPort.post<{ code: string }>('/dead-letters/billing/replay', {});
    expect([elsewhere.status, elsewhere.body.code]).toEqual([404, 'context-not-here']);
    const badId = await asAdminOnPort.post<{ code: string }>('/dead-letters/notifications/1e3/replay', {});
    expect([badId.status, badId.body.code]).toEqual([400, 'validation-failed']);
    const head = await fetch(`${running.shop.operationsUrl}/dead-letters`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect([head.status, await head.text()]).toEqual([200, '']);
    // The rest of the port still takes no POST, token or not.
    expect((await asAdminOnPort.post('/metrics', {})).status).toBe(405);
    // The edge's own admin route lists the same letters.
    const edge = await new ShopClient(running.shop.baseUrl)
      .withToken(adminToken)
      .get<{ items: unknown[] }>('/admin/dead-letters');
    expect([edge.status, edge.body.items.length]).toEqual([200, listed.body.items.length]);
  });
});
