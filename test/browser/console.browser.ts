import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { BOUNDED_CONTEXTS } from '@contracts/kernel';
import { eventually } from '../support/eventually';
import { shopWithConsole, type ShopWithConsole } from '../support/console';

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

  beforeAll(async () => {
    running = await shopWithConsole('console_browser');
    // As root (CI's containers) Chromium's sandbox cannot start; the page is our own.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await running?.console.close();
    if (!shopStopped) await running?.shop.close();
  });

  const screenshot = async (name: string) => {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };
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
    await screenshot('sign-in-refused');
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
    await screenshot('map-monolith');
  });

  it('shows a process that stops answering as down, and the page keeps working', async () => {
    shopStopped = true;
    await running.shop.close();
    await expectText(card('monolith').locator('.state'), /^down/);
    expect(await page.getByRole('heading', { name: /Map: topology monolith/ }).isVisible()).toBe(true);
    await screenshot('map-process-down');
  });
});

/** Waits (polling, as the page refreshes itself) until the element's text matches. */
async function expectText(locator: ReturnType<Page['locator']>, pattern: RegExp): Promise<void> {
  const text = await eventually(async () => ((await locator.first().textContent({ timeout: 5_000 })) ?? '').trim(), {
    until: (shown) => pattern.test(shown),
    timeoutMs: 30_000,
    what: `the page shows ${pattern}`,
  });
  expect(text).toMatch(pattern);
}
