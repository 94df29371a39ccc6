import { eventually } from '../support/eventually';
import { ShopClient } from '../support/http-client';
import { extractingShopWithConsole, stockReads, type ExtractingShopWithConsole } from '../support/console';
import { extractedShareDuring, routedInventoryCalls } from '../support/routed-calls';

const PORTS = { monolith: { grpc: 7651, http: 3651, operations: 3751 }, inventory: { grpc: 7652, http: 3652 } };

interface Migration {
  contexts: Array<{
    context: string;
    runsIn: string;
    extraction?: {
      owner: string;
      extracted: string;
      shift: number;
      shadow: boolean;
      next: { safe: boolean; step: string };
      measured: { recent?: { percent: number; calls: number }; total?: { percent: number; calls: number } };
      log: Array<{ flag: string; from: string | null; to: string; by: string; reason?: string }>;
    };
  }>;
}

/**
 * The console's Migration API beside a monolith extracting inventory: what `ficus status` reads,
 * and the changes `ficus shift` and `ficus shadow` make, for admins only, each named in the flag
 * log, each refused with a problem when it cannot be made.
 */
describe("the console's migration desk", () => {
  let shop: ExtractingShopWithConsole;
  let admin: ShopClient;

  beforeAll(async () => {
    shop = await extractingShopWithConsole('console_migration', PORTS);
    const console = new ShopClient(shop.console.url);
    admin = console.withToken(
      (await console.post<{ accessToken: string }>('/api/session', shop.admin)).body.accessToken,
    );
  }, 240_000);
  afterAll(() => shop?.close(), 60_000);

  const migration = async () => {
    const answer = await admin.get<Migration>('/api/migration');
    expect(answer.status).toBe(200);
    return answer.body;
  };
  const inventory = async () => (await migration()).contexts.find((c) => c.context === 'inventory')!.extraction!;

  it('shows where every context runs, and the extraction in progress with its next step', async () => {
    const { contexts } = await migration();
    expect(contexts.filter((c) => c.extraction).map((c) => c.context)).toEqual(['inventory']);
    expect(new Set(contexts.map((c) => c.runsIn))).toEqual(new Set(['monolith']));
    expect(await inventory()).toMatchObject({
      owner: 'monolith',
      extracted: 'inventory',
      shift: 0,
      shadow: false,
      next: { safe: true, step: 'ficus shadow inventory on' },
    });
  });

  it('moves a share of the calls to the extracted service and back, measured from the metrics, the admin in the log', async () => {
    const shifted = await admin.post<{ change: { to: string; by: string } }>('/api/migration/inventory/shift', {
      percent: 10,
      expected: 0,
      reason: 'first step\n\u001b[31mwith a line break and an escape',
    });
    expect([shifted.status, shifted.body.change.to, shifted.body.change.by]).toEqual([
      200,
      'percent 10',
      `${shop.admin.email} (ficus console)`,
    ]);
    expect((await inventory()).shift).toBe(10);

    // The owner picks the change up at once (LISTEN/NOTIFY); the share its metrics count is near 10 %.
    const share = await extractedShareDuring(shop.operationsUrl, () => stockReads(shop.shopUrl, 400));
    expect(share).toBeGreaterThan(5);
    expect(share).toBeLessThan(15);
    // The console measures the same counters at its next reading of the processes (a reading
    // serves for a second: the one in hand may be from before the load).
    const { measured } = await eventually(inventory, { until: (state) => state.measured.total !== undefined });
    expect(measured.total!.percent).toBeGreaterThan(0);

    const rolledBack = await admin.post<{ change: { from: string; to: string } }>('/api/migration/inventory/shift', {
      percent: 0,
    });
    expect([rolledBack.status, rolledBack.body.change.from, rolledBack.body.change.to]).toEqual([
      200,
      'percent 10',
      'off',
    ]);
    const back = await routedInventoryCalls(shop.operationsUrl);
    await stockReads(shop.shopUrl, 100);
    const afterRollback = await routedInventoryCalls(shop.operationsUrl);
    expect(afterRollback.extracted - back.extracted).toBe(0);

    const state = await inventory();
    expect(state.shift).toBe(0);
    expect(state.log.find((change) => change.to === 'percent 10')).toMatchObject({
      reason: 'first step [31mwith a line break and an escape',
    });
    expect(state.log.slice(0, 2).map(({ flag, to, by }) => `${flag} → ${to} by ${by}`)).toEqual([
      `shift.inventory → off by ${shop.admin.email} (ficus console)`,
      `shift.inventory → percent 10 by ${shop.admin.email} (ficus console)`,
    ]);
  });

  it('turns shadowing on and off', async () => {
    const on = await admin.post<{ change: { to: string } }>('/api/migration/inventory/shadow', { on: true });
    expect([on.status, on.body.change.to]).toEqual([200, 'on']);
    expect((await inventory()).shadow).toBe(true);
    const off = await admin.post<{ change: { to: string } }>('/api/migration/inventory/shadow', { on: false });
    expect([off.status, off.body.change.to]).toEqual([200, 'off']);
  });

  it('refuses a customer, a share that is none, a context not being extracted, with problems', async () => {
    const console = new ShopClient(shop.console.url);
    const customerToken = (
      await new ShopClient(shop.shopUrl).post<{ accessToken: string }>('/identity/login', shop.customer)
    ).body.accessToken;
    const cases: Array<[string, string, unknown, ShopClient, number, string]> = [
      [
        'customer',
        '/api/migration/inventory/shift',
        { percent: 10 },
        console.withToken(customerToken),
        403,
        'not-an-admin',
      ],
      ['anonymous', '/api/migration/inventory/shift', { percent: 10 }, console, 401, 'missing-token'],
      ['over 100', '/api/migration/inventory/shift', { percent: 150 }, admin, 422, 'invalid-share'],
      ['a fraction', '/api/migration/inventory/shift', { percent: 10.5 }, admin, 422, 'invalid-share'],
      ['text', '/api/migration/inventory/shift', { percent: '10' }, admin, 400, 'validation-failed'],
      ['no body', '/api/migration/inventory/shift', {}, admin, 400, 'validation-failed'],
      ['shadow as text', '/api/migration/inventory/shadow', { on: 'yes' }, admin, 400, 'validation-failed'],
      [
        'a reason that is no text',
        '/api/migration/inventory/shadow',
        { on: true, reason: 7 },
        admin,
        400,
        'validation-failed',
      ],
      ['no such context', '/api/migration/nothing/shift', { percent: 10 }, admin, 404, 'context-not-found'],
      ['odd spelling', '/api/migration/Inventory/shift', { percent: 10 }, admin, 400, 'validation-failed'],
      ['not being extracted', '/api/migration/catalog/shift', { percent: 10 }, admin, 409, 'not-being-extracted'],
      // The page sends the share it showed: a share moved since by someone else is not overwritten.
      [
        'changed meanwhile',
        '/api/migration/inventory/shift',
        { percent: 10, expected: 50 },
        admin,
        409,
        'changed-meanwhile',
      ],
      [
        'shadow changed meanwhile',
        '/api/migration/inventory/shadow',
        { on: true, expected: true },
        admin,
        409,
        'changed-meanwhile',
      ],
    ];
    for (const [what, path, body, client, status, code] of cases) {
      const answer = await client.post<{ code: string }>(path, body);
      expect([what, answer.status, answer.body.code, answer.headers.get('content-type')]).toEqual([
        what,
        status,
        code,
        'application/problem+json; charset=utf-8',
      ]);
    }
    expect((await inventory()).shift).toBe(0);
  });
});
