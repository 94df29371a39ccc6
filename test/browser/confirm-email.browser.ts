import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';

/** Debian's Chromium, as `.ci/run` installs it; FICUS_CHROMIUM names another. */
const CHROMIUM = process.env.FICUS_CHROMIUM ?? '/usr/bin/chromium';
const PASSWORD = 'correct horse battery';

/**
 * The confirmation email's link as its reader follows it, in a real browser: a page that asks for
 * the password chosen when registering, under its own Content-Security-Policy (its inline script
 * allowed by hash), says why a wrong one is refused, and confirms with the right one.
 */
describe('the confirmation link in a browser', () => {
  let shop: RunningShop;
  let anonymous: ShopClient;
  let browser: Browser;
  let page: Page;
  const refusedByPolicy: string[] = [];
  /** The link the first test follows, and uses up. */
  let followed = '';

  beforeAll(async () => {
    shop = await startShop('confirm_browser');
    anonymous = new ShopClient(shop.baseUrl);
    // As root (CI's containers) Chromium's sandbox cannot start; the page is our own.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) refusedByPolicy.push(message.text());
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await shop?.close();
  });

  it('asks for the password, says a wrong one is wrong, and confirms with the right one', async () => {
    const email = `browser-${randomUUID()}@example.com`;
    expect((await anonymous.post('/identity/register', { email, password: PASSWORD })).status).toBe(202);
    const token = (followed = await anonymous.confirmationToken(email));

    await page.goto(`${shop.baseUrl}/identity/confirm?token=${token}`);
    await page.getByLabel('The password you chose when registering').fill('not my password');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('status').filter({ hasText: 'not the password chosen when registering' }).waitFor();
    expect(await anonymous.post('/identity/login', { email, password: PASSWORD })).toMatchObject({
      status: 403,
      body: { code: 'email-not-confirmed' },
    });

    await page.getByLabel('The password you chose when registering').fill(PASSWORD);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('status').filter({ hasText: 'Your email address is confirmed' }).waitFor();
    expect(await page.locator('form#confirm').isHidden()).toBe(true);
    expect((await anonymous.post('/identity/login', { email, password: PASSWORD })).status).toBe(200);
    expect(refusedByPolicy).toEqual([]); // the page's script ran under its own policy
  });

  it('tells a reader whose link is used up what to do', async () => {
    expect(followed).not.toBe('');
    await page.goto(`${shop.baseUrl}/identity/confirm?token=${followed}`);
    await page.getByLabel('The password you chose when registering').fill(PASSWORD);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('status').filter({ hasText: 'unknown, used or expired' }).waitFor();
  });
});
