import { randomUUID } from 'node:crypto';
import { rawRequest, ShopClient } from '../support/http-client';
import { eventually } from '../support/eventually';
import { productionEnv, startShop, type RunningShop } from '../support/shop';
import { asAdmin } from '../support/test-database';

/**
 * Registration proves the mailbox and tells no one which addresses have accounts (issue 15,
 * items 1 and 9): one answer for a new and a known address, a mailed single-use link that
 * expires, no sign-in before it comes back, and a development mailbox that production does not have.
 */
describe('registration and the confirmed mailbox (monolith)', () => {
  let shop: RunningShop;
  let anonymous: ShopClient;
  const PASSWORD = 'correct horse battery';

  beforeAll(async () => {
    shop = await startShop('registration');
    anonymous = new ShopClient(shop.baseUrl);
  });
  afterAll(() => shop?.close());

  const register = (email: string, password = PASSWORD) => anonymous.post('/identity/register', { email, password });
  const mailbox = (email: string) =>
    anonymous.get<{ items: Array<{ kind: string; subject: string; text: string }> }>(
      `/dev/mailbox?to=${encodeURIComponent(email)}`,
    );

  it('mails a single-use link ending in /identity/confirm?token=…, refuses sign-in until it comes back, then lets the account in', async () => {
    const email = `new-${randomUUID()}@example.com`;
    expect(await register(email)).toMatchObject({ status: 202, body: { status: 'confirmation-sent' } });

    const mail = await eventually(
      async () => (await mailbox(email)).body.items.find((item) => item.kind === 'email-confirmation'),
      {
        until: (found) => found !== undefined,
        what: 'the confirmation email',
      },
    );
    expect(mail!.subject).toBe('Confirm your email address');
    const link = /(http\S+\/identity\/confirm\?token=([A-Za-z0-9_-]+))/.exec(mail!.text);
    expect(link).not.toBeNull();
    const token = link![2];

    const early = await anonymous.post('/identity/login', { email, password: PASSWORD });
    expect(early).toMatchObject({ status: 403, body: { code: 'email-not-confirmed' } });
    // The wrong password is still the wrong password: only whoever knows it learns more.
    expect(await anonymous.post('/identity/login', { email, password: 'not the password' })).toMatchObject({
      status: 401,
      body: { code: 'invalid-credentials' },
    });

    // The token alone confirms nothing; nor does it with another password.
    expect(await anonymous.post('/identity/confirm', { token })).toMatchObject({
      status: 422,
      body: { code: 'validation-failed' },
    });
    expect(await anonymous.post('/identity/confirm', { token, password: 'not the password' })).toMatchObject({
      status: 422,
      body: { code: 'wrong-confirmation-password' },
    });
    const confirmed = await anonymous.post<{ customerId: string }>('/identity/confirm', { token, password: PASSWORD });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.customerId).toMatch(/^[\da-f-]{36}$/);
    expect(await anonymous.post('/identity/confirm', { token, password: PASSWORD })).toMatchObject({
      status: 422,
      body: { code: 'invalid-confirmation-token' },
    });
    expect((await anonymous.post('/identity/login', { email, password: PASSWORD })).status).toBe(200);

    // Only the token's hash is stored.
    const stored = await asAdmin<{ token_hash: string }>(
      shop.database,
      'SELECT token_hash FROM identity.email_confirmations WHERE customer_id = $1',
      [confirmed.body.customerId],
    );
    expect(stored).toHaveLength(1);
    expect(stored[0].token_hash).not.toContain(token);
  });

  it('opens a page from the link that asks for the password: following it (GET) confirms nothing; an expired link is refused', async () => {
    const email = `link-${randomUUID()}@example.com`;
    await register(email);
    const token = await anonymous.confirmationToken(email);
    // As a mail scanner follows every link: a page, the same for every token, and nothing confirmed.
    const page = await anonymous.get<string>(`/identity/confirm?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'.*script-src 'sha256-[^']+'/);
    expect(page.body).toContain('<input type="password"');
    expect(page.body).not.toContain(token);
    const other = await anonymous.get<string>('/identity/confirm?token=%3Cscript%3Ealert(1)%3C/script%3E');
    expect(other.body).toBe(page.body);
    expect(await anonymous.post('/identity/login', { email, password: PASSWORD })).toMatchObject({
      status: 403,
      body: { code: 'email-not-confirmed' },
    });

    // A day on: the link has expired, and the minute an account waits between two links has passed.
    await asAdmin(shop.database, "UPDATE identity.email_confirmations SET expires_at = now() - interval '1 second'");
    await asAdmin(shop.database, "UPDATE identity.account_emails SET last_sent_at = now() - interval '1 day'");
    expect(await anonymous.post('/identity/confirm', { token, password: PASSWORD })).toMatchObject({
      status: 422,
      body: { code: 'invalid-confirmation-token' },
    });

    await register(email); // not confirmed yet: registering again mails a new link
    const fresh = await eventually(async () => anonymous.confirmationToken(email), {
      until: (t) => t !== token,
      what: 'a new link',
    });
    expect((await anonymous.post('/identity/confirm', { token: fresh, password: PASSWORD })).status).toBe(200);
    expect((await anonymous.post('/identity/login', { email, password: PASSWORD })).status).toBe(200);
  });

  it('confirms nothing with a link its owner did not ask for: someone who registered their address cannot get in', async () => {
    const email = `unasked-${randomUUID()}@example.com`;
    const ATTACKER = 'the attacker chose this';
    await register(email, ATTACKER);
    const link = await anonymous.confirmationToken(email); // in the owner's mailbox
    // The owner follows it and gives the password they would use: refused, and nothing changes.
    expect(await anonymous.post('/identity/confirm', { token: link, password: PASSWORD })).toMatchObject({
      status: 422,
      body: { code: 'wrong-confirmation-password' },
    });
    expect(await anonymous.post('/identity/login', { email, password: ATTACKER })).toMatchObject({
      status: 403,
      body: { code: 'email-not-confirmed' },
    });
    expect(await anonymous.post('/identity/login', { email, password: PASSWORD })).toMatchObject({
      status: 401,
      body: { code: 'invalid-credentials' },
    });
  });

  it('signs in with the password chosen with the link that was followed: an owner who follows their own link keeps no one else’s', async () => {
    const email = `owner-${randomUUID()}@example.com`;
    const ATTACKER = 'the attacker chose this';
    await register(email, ATTACKER); // first, before the owner
    const attackersLink = await anonymous.confirmationToken(email); // mailed to the owner, never followed
    // A minute on: the owner registers the address themselves and follows their own link.
    await asAdmin(shop.database, "UPDATE identity.account_emails SET last_sent_at = now() - interval '1 day'");
    await register(email, PASSWORD);
    const ownersLink = await eventually(async () => anonymous.confirmationToken(email), {
      until: (t) => t !== attackersLink,
      what: "the owner's link",
    });
    expect((await anonymous.post('/identity/confirm', { token: ownersLink, password: PASSWORD })).status).toBe(200);
    // No link keeps the hash of a password, the one followed included.
    const hashes = await asAdmin<{ kept: number }>(
      shop.database,
      'SELECT count(*)::int AS kept FROM identity.email_confirmations c JOIN identity.customers USING (customer_id) ' +
        'WHERE email = $1 AND c.password_hash IS NOT NULL',
      [email],
    );
    expect(hashes).toEqual([{ kept: 0 }]);

    expect((await anonymous.post('/identity/login', { email, password: PASSWORD })).status).toBe(200);
    expect(await anonymous.post('/identity/login', { email, password: ATTACKER })).toMatchObject({
      status: 401,
      body: { code: 'invalid-credentials' },
    });
    // The other link is spent with the confirmation: followed later, it changes nothing.
    expect(await anonymous.post('/identity/confirm', { token: attackersLink, password: ATTACKER })).toMatchObject({
      status: 422,
      body: { code: 'invalid-confirmation-token' },
    });
    expect((await anonymous.post('/identity/login', { email, password: PASSWORD })).status).toBe(200);
  });

  it('answers a known address exactly as a new one, and tells the owner instead', async () => {
    const known = `known-${randomUUID()}@example.com`;
    await anonymous.signUp(known, PASSWORD);
    const again = await register(known.toUpperCase(), 'someone else entirely');
    const fresh = await register(`fresh-${randomUUID()}@example.com`, 'someone else entirely');
    expect({ status: again.status, body: again.body }).toEqual({ status: fresh.status, body: fresh.body });
    expect(again.status).toBe(202);

    const warning = await eventually(
      async () => (await mailbox(known)).body.items.find((item) => item.kind === 'registration-attempted'),
      {
        until: (found) => found !== undefined,
        what: "the owner's warning",
      },
    );
    expect(warning!.subject).toBe('Someone tried to register with your email address');
    // The account is unchanged: the old password still signs in, the attempt's does not.
    expect((await anonymous.post('/identity/login', { email: known, password: PASSWORD })).status).toBe(200);
    expect((await anonymous.post('/identity/login', { email: known, password: 'someone else entirely' })).status).toBe(
      401,
    );
  });

  it('has no development mailbox in a shop started with NODE_ENV=production: the same 404 as any unknown route', async () => {
    const production = await startShop('registration_production', { env: productionEnv() });
    try {
      const box = await rawRequest(production.baseUrl, 'GET', '/dev/mailbox?to=a%40example.com');
      const unknown = await rawRequest(production.baseUrl, 'GET', '/dev/nothing-here');
      expect(box).toMatchObject({ status: 404, body: { code: 'route-not-found' } });
      expect(JSON.stringify(box.body).replaceAll('/dev/mailbox', 'PATH')).toBe(
        JSON.stringify(unknown.body).replaceAll('/dev/nothing-here', 'PATH'),
      );
      // The development shop beside it still has one: the mode is the process's, read at its start.
      expect((await rawRequest(shop.baseUrl, 'GET', '/dev/mailbox?to=a%40example.com')).status).toBe(200);
    } finally {
      await production.close();
    }
  });
});
