import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { BOUNDED_CONTEXTS } from '@contracts/kernel';
import { startTracing, type TracingHandle } from '@infra/observability';
import type { RunningConsole } from '../../apps/cli/src/console/console-server';
import { ShopClient } from '../support/http-client';
import { startShopOn, type ShopOnTopology } from '../support/topology-shop';
import { eventually } from '../support/eventually';
import {
  consoleOn,
  extractingShopWithConsole,
  messageWithoutRecipient,
  shopWithConsole,
  stockReads,
  type ExtractingShopWithConsole,
  type ShopWithConsole,
} from '../support/console';
import { extractedShareDuring, routedInventoryCalls } from '../support/routed-calls';

/** Debian's Chromium, as `.ci/run` installs it; FICUS_CHROMIUM names another. */
const CHROMIUM = process.env.FICUS_CHROMIUM ?? '/usr/bin/chromium';
/** Set (to a folder) to write each page's screenshot there: docs/console.md shows them. */
const SCREENSHOTS = process.env.FICUS_CONSOLE_SCREENSHOTS;

/**
 * The console as its users see it, in a real browser beside the monolith: an admin signs in and
 * reads the map; a customer is refused with the server's own message; a process that stops
 * shows as down while the page keeps working.
 */
describe('the ficus console in a browser', () => {
  let running: ShopWithConsole;
  let browser: Browser;
  let page: Page;
  let shopStopped = false;
  let tracing: TracingHandle | undefined;

  beforeAll(async () => {
    tracing = startTracing('ficus-monolith', { FICUS_TRACE_BUFFER: '5000' }); // an order's trace
    running = await shopWithConsole('console_browser');
    // As root (CI's containers) Chromium's sandbox cannot start; the page is our own.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await running?.console.close();
    if (!shopStopped) await running?.shop.close();
    await tracing?.shutdown();
  });

  const signIn = async (who: { email: string; password: string }) => {
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  const card = (target: string) => page.locator(`section.process[data-target="${target}"]`);

  it("refuses a customer, showing the server's reason", async () => {
    await page.goto(running.console.url);
    await signIn(running.customer);
    await expectText(page.getByRole('alert'), /for the shop’s admins/);
    await screenshot(page, 'sign-in-refused');
  });

  it('signs an admin in and maps the monolith: one ready process holding every module, the graph inside it', async () => {
    await page.goto(running.console.url);
    await signIn(running.admin);
    await expectText(card('monolith').locator('.state'), /^ready$/);
    const modules = await card('monolith').locator('.modules').innerText();
    expect(modules.split(', ').sort()).toEqual([...BOUNDED_CONTEXTS].sort());
    const graph = page.locator('.graph svg');
    await expectText(graph, /target monolith/);
    for (const context of BOUNDED_CONTEXTS) expect(await graph.innerHTML()).toContain(`>${context}<`);
    await screenshot(page, 'map-monolith');
  });

  it("draws the busiest edges' rates, failures and latencies as the map reads them", async () => {
    const shop = new ShopClient(running.shop.baseUrl);
    const charts = page.getByRole('figure');
    await eventually(
      async () => {
        for (let read = 0; read < 5; read += 1) await shop.get('/catalog/products');
        return charts.count();
      },
      { until: (count) => count === 3, timeoutMs: 30_000, what: 'three charts on the map' },
    );
    await expectText(page.getByRole('figure', { name: 'calls per second' }), /edge→catalog/);
    expect(await page.locator('figure.chart canvas').count()).toBe(3);
    await screenshot(page, 'map-charts');
  });

  it("follows an order's saga step by step, with its trace, and finds it again by its customer", async () => {
    const customer = await new ShopClient(running.shop.baseUrl).signUp();
    const placed = await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 2 }]);
    await page.getByRole('link', { name: 'Orders' }).click();
    await page.getByLabel('Order or customer id').fill(placed.body.orderId);
    await page.getByRole('button', { name: 'Find' }).click();
    // The page reads the order again every few seconds until its saga has ended.
    await expectText(page.locator('.order .status'), /^CONFIRMED$/);
    const steps = page.getByRole('list', { name: 'saga timeline' }).locator('li');
    expect(await steps.evaluateAll((items) => items.map((item) => item.getAttribute('data-step')))).toEqual([
      'ORDER_CREATED',
      'STOCK_RESERVED',
      'PAYMENT_COMPLETED',
      'SHIPMENT_CREATED',
      'ORDER_CONFIRMED',
    ]);
    expect(await steps.nth(2).locator('.context').innerText()).toBe('payments');
    await expectText(page.getByRole('table', { name: 'trace' }), /POST \/orders/);
    // An event written to the outbox shows under the transaction that wrote it.
    await expectText(page.getByRole('table', { name: 'trace' }), /· outbox ordering\.order-created \+\d/);
    await screenshot(page, 'order-timeline');

    await page.getByRole('link', { name: customer.customerId }).click();
    await expectText(page.getByRole('table', { name: "customer's orders" }), new RegExp(placed.body.orderId));
    await page.getByRole('link', { name: placed.body.orderId }).click();
    await expectText(page.locator('.order h3'), new RegExp(`Order ${placed.body.orderId}`));
  });

  it("shows the shop's refusal of an id that is none", async () => {
    await page.goto(`${running.console.url}/#/orders/not-an-order`);
    await expectText(page.getByRole('alert'), /give an order id/);
  });

  it('changes a flag on the Flags page, confirmed, the admin in its log', async () => {
    await page.goto(`${running.console.url}/#/flags`);
    const row = page.locator('tr[data-flag="notifications.new-confirmation-email"]');
    await expectText(row.locator('.state'), /^off$/);
    await row.getByRole('button', { name: 'Change' }).click();
    const dialog = page.getByRole('dialog', { name: 'change notifications.new-confirmation-email' });
    await dialog.getByRole('radio').nth(2).check();
    await dialog.getByLabel('Percent').fill('25');
    await dialog.getByLabel('Why (for the flag log)').fill('a quarter first');
    await dialog.getByRole('button', { name: 'Confirm the change' }).click();
    await expectText(row.locator('.state'), /^percent 25$/);
    expect(await dialog.count()).toBe(0);
    await page.locator('tr.flag-more details summary').first().click(); // the log unfolds
    const log = page.getByRole('list', { name: 'changes of notifications.new-confirmation-email' });
    await expectText(
      log,
      new RegExp(`default → percent 25, by ${escaped(running.admin.email)} \\(ficus console\\) \\(a quarter first\\)`),
    );
    await screenshot(page, 'flags');
  });

  it('shows a process that stops answering as down, and the page keeps working', async () => {
    await page.goto(`${running.console.url}/#/map`);
    await expectText(card('monolith').locator('.state'), /^ready$/);
    shopStopped = true;
    await running.shop.close();
    await expectText(card('monolith').locator('.state'), /^down/);
    expect(await page.getByRole('heading', { name: /Map: topology monolith/ }).isVisible()).toBe(true);
    await screenshot(page, 'map-process-down');
  });
});

/**
 * The same page beside the split shop (a process per context, a gateway, gRPC, Kafka): a card per
 * process, each ready, each holding its own context, and the graph drawn across them.
 */
describe('the ficus console beside the split shop', () => {
  let shop: ShopOnTopology;
  let console: RunningConsole;
  let browser: Browser;
  let page: Page;
  const admin = { email: `admin-${randomUUID()}@example.com`, password: 'console admin password' };

  beforeAll(async () => {
    shop = await startShopOn('split', { FICUS_TRACE_BUFFER: '5000' });
    const promoted = await new ShopClient(shop.baseUrl).signUp(admin.email, admin.password);
    await shop.query(
      'identity',
      `UPDATE identity.customers SET roles = ARRAY['customer', 'admin'] WHERE customer_id = $1`,
      [promoted.customerId],
    );
    console = await consoleOn(shop.launchedTopology!, shop.baseUrl);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await console?.close();
    await shop?.close();
  }, 60_000);

  it('maps every process of the split shop, each ready and holding its own context', async () => {
    await page.goto(console.url);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const targets = shop.launchedTopology!.targets;
    for (const target of targets) {
      const card = page.locator(`section.process[data-target="${target.name}"]`);
      await expectText(card.locator('.state'), /^ready$/);
      const modules = ((await card.locator('.modules').textContent()) ?? '').trim();
      expect(modules).toBe(target.modules.length ? target.modules.join(', ') : 'the HTTP edge only');
    }
    const graph = await page.locator('.graph svg').innerHTML();
    for (const target of targets.filter((t) => t.modules.length)) expect(graph).toContain(`target ${target.name}`);
    await screenshot(page, 'map-split');
  });

  it("follows an order's trace across the processes that handled it", async () => {
    const customer = await new ShopClient(shop.baseUrl).signUp();
    const placed = await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }]);
    await page.goto(`${console.url}/#/orders/${placed.body.orderId}`);
    await expectText(page.locator('.order .status'), /^CONFIRMED$/);
    const trace = page.getByRole('table', { name: 'trace' });
    const services = await eventually(
      async () => new Set(await trace.locator('tbody td:first-child').allInnerTexts()),
      { until: (shown) => shown.size >= 4, timeoutMs: 30_000, what: 'spans of four processes in the trace' },
    );
    expect([...services]).toEqual(
      expect.arrayContaining(['ficus-gateway', 'ficus-ordering', 'ficus-inventory', 'ficus-payments']),
    );
    await screenshot(page, 'order-trace-split');
  });

  it('replays a poison message in the service that consumes it, once its cause is gone', async () => {
    const poison = messageWithoutRecipient();
    await shop.redeliver(poison.confirmed); // through Kafka, as the split shop delivers events
    await page.goto(`${console.url}/#/messaging`);
    const letter = page.locator(`tr[data-message="${poison.confirmed.id}"]`);
    await expectText(letter.locator('.reason'), /no address known yet for customer/);
    await expectText(page.locator('tr[data-context="notifications"] td:nth-child(2)'), /^notifications$/);
    await expectText(page.getByRole('table', { name: 'consumer lag' }), /notifications/);
    await screenshot(page, 'messaging-dead-letter');

    await shop.redeliver(poison.registered);
    const remembered = () =>
      shop.query('notifications', 'SELECT 1 FROM notifications.recipients WHERE customer_id = $1', [poison.customerId]);
    await eventually(remembered, { until: (rows) => rows.length === 1, what: 'the late registration remembered' });
    await letter.getByRole('button', { name: 'Replay' }).click();
    const dialog = page.getByRole('dialog', { name: 'confirm the replay' });
    await expectText(dialog, /in notifications;/);
    await dialog.getByRole('button', { name: /^Confirm: Replay notifications \d+$/ }).click();
    await expectText(page.getByRole('status'), /: processed$/);
    expect(await letter.count()).toBe(0);
    await expectText(
      page.getByRole('list', { name: 'replayed dead letters' }),
      new RegExp(`by ${escaped(admin.email)}`),
    );
    const emails = await shop.query(
      'notifications',
      'SELECT kind FROM notifications.notifications WHERE order_id = $1',
      [poison.orderId],
    );
    expect(emails).toEqual([{ kind: 'order-confirmed' }]);
    await screenshot(page, 'messaging-replayed');
  });
});

/**
 * The Migration page beside a monolith extracting inventory: an admin moves 10 % of inventory's
 * calls to the extracted service and back, each change confirmed first, the share checked in the
 * owner's metrics, and the admin named in the page's change log.
 */
describe("the ficus console's migration page", () => {
  let shop: ExtractingShopWithConsole;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    shop = await extractingShopWithConsole('console_browser_migration', {
      monolith: { grpc: 7661, http: 3661, operations: 3761 },
      inventory: { grpc: 7662, http: 3662 },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await shop?.close();
  }, 60_000);

  it('shifts inventory to 10 % and back, confirmed, measured in the metrics, the admin in the log', async () => {
    await page.goto(`${shop.console.url}/#/migration`);
    await page.getByLabel('Email').fill(shop.admin.email);
    await page.getByLabel('Password').fill(shop.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const extraction = page.getByRole('article', { name: 'extraction of inventory' });
    await expectText(extraction.locator('.shift'), /^0 %$/);
    await expectText(extraction.locator('.next'), /^safe: ficus shadow inventory on/);

    // A change asks first; cancelling changes nothing.
    await extraction.getByRole('button', { name: 'Shift to 10 %' }).click();
    const dialog = extraction.getByRole('dialog', { name: 'confirm the change' });
    await expectText(dialog, /10 % of inventory's calls to inventory\?/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await dialog.count()).toBe(0);
    expect(await extraction.locator('.shift').innerText()).toBe('0 %');

    await extraction.getByRole('button', { name: 'Shift to 10 %' }).click();
    await dialog.getByLabel('Why (for the flag log)').fill('first step, from the browser');
    await dialog.getByRole('button', { name: 'Confirm: Shift to 10 %' }).click();
    await expectText(extraction.locator('.shift'), /^10 %$/);

    const share = await extractedShareDuring(shop.operationsUrl, () => stockReads(shop.shopUrl, 400));
    expect(share).toBeGreaterThan(5);
    expect(share).toBeLessThan(15);
    await expectText(extraction.locator('.measured'), /^\d+(\.\d)? % of \d+ calls/);
    await expectText(extraction.getByRole('list', { name: 'changes of inventory' }), /→ percent 10, by .*\(first step/);
    await screenshot(page, 'migration-shifted');

    await extraction.getByRole('button', { name: 'Roll back to 0 %' }).click();
    await dialog.getByRole('button', { name: 'Confirm: Roll back' }).click();
    await expectText(extraction.locator('.shift'), /^0 %$/);
    const log = extraction.getByRole('list', { name: 'changes of inventory' }).locator('li');
    await expectText(log.first(), new RegExp(`shift.inventory percent 10 → off, by ${escaped(shop.admin.email)}`));
    const rolledBack = await routedInventoryCalls(shop.operationsUrl);
    await stockReads(shop.shopUrl, 100);
    expect((await routedInventoryCalls(shop.operationsUrl)).extracted).toBe(rolledBack.extracted);
  });
});

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Waits (polling, as the page refreshes itself) until the element's text matches. */
async function expectText(locator: ReturnType<Page['locator']>, pattern: RegExp): Promise<void> {
  const text = await eventually(async () => ((await locator.first().textContent({ timeout: 5_000 })) ?? '').trim(), {
    until: (shown) => pattern.test(shown),
    timeoutMs: 30_000,
    what: `the page shows ${pattern}`,
  });
  expect(text).toMatch(pattern);
}

/** The page as it looks, for docs/console.md, when FICUS_CONSOLE_SCREENSHOTS names a folder. */
async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
