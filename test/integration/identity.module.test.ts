import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { Client } from 'pg';
import { Logger } from '@nestjs/common';
import { IdentityContract } from '@contracts/identity';
import { IdentityModule } from '@modules/identity';
import { withDatabase } from '@infra/persistence';
import { asAdminUser, asCustomer, callContext, startModule, type ModuleUnderTest } from '../support/module-harness';
import { asAdmin } from '../support/test-database';
import { eventually } from '../support/eventually';
import { IdentityHousekeeping } from '../../modules/identity/src/application/housekeeping/identity-housekeeping';
import { SigningKeys } from '../../modules/identity/src/application/signing-keys/signing-keys';
import { CONFIRMATION_TTL_HOURS } from '../../modules/identity/src/application/register/register-customer.handler';
import { DEFAULT_ACCOUNT_EMAILS } from '../../modules/identity/src/domain/account-email-policy';
import { DEFAULT_LOGIN_THROTTLE } from '../../modules/identity/src/domain/login-throttle-policy';

describe('identity, alone on its database', () => {
  let identity: ModuleUnderTest;
  const api = () => identity.client(IdentityContract);
  const password = 'correct horse battery';

  beforeAll(async () => {
    identity = await startModule('identity', IdentityModule);
  });
  afterAll(() => identity?.close());

  /** What identity's outbox holds for an account, oldest first (the relay may have sent it already). */
  const eventsOf = (customerId: string) =>
    asAdmin<{ type: string; payload: { token?: string } }>(
      identity.database,
      'SELECT type, payload FROM identity.outbox WHERE aggregate_id = $1 ORDER BY seq',
      [customerId],
    );
  const register = async () => {
    const email = `someone-${randomUUID().slice(0, 8)}@example.com`;
    const { customerId } = await api().register(callContext(), { email, password });
    const token = (await eventsOf(customerId)).find((e) => e.type === 'identity.email-confirmation-requested')?.payload
      .token;
    return { email, customerId, token: token! };
  };

  it('registers an account that proves its mailbox before it signs in: the mailed token, once', async () => {
    const { email, customerId, token } = await register();
    expect((await eventsOf(customerId)).map((e) => e.type)).toEqual([
      'identity.customer-registered',
      'identity.email-confirmation-requested',
    ]);
    await expect(api().login(callContext(), { email, password })).rejects.toMatchObject({
      kind: 'permission-denied',
      code: 'email-not-confirmed',
    });

    expect(await api().confirmEmail(callContext(), { token, password })).toEqual({ customerId });
    await expect(api().confirmEmail(callContext(), { token, password })).rejects.toMatchObject({
      code: 'invalid-confirmation-token',
    });
    const tokens = await api().login(callContext(), { email, password });
    expect(decodeJwt(tokens.accessToken)).toMatchObject({ sub: customerId, roles: ['customer'] });
  });

  it('confirms only with the password chosen when registering; five wrong ones spend the link', async () => {
    const { email, customerId, token } = await register();
    // No password: nothing was tried, and the link still works.
    await expect(api().confirmEmail(callContext(), { token })).rejects.toMatchObject({
      kind: 'invalid-argument',
      code: 'confirmation-password-required',
    });
    for (let attempt = 1; attempt <= 4; attempt++) {
      await expect(api().confirmEmail(callContext(), { token, password: `guess ${attempt}` })).rejects.toMatchObject({
        kind: 'invalid-argument',
        code: 'wrong-confirmation-password',
      });
    }
    await expect(api().login(callContext(), { email, password })).rejects.toMatchObject({
      code: 'email-not-confirmed',
    });
    expect(await api().confirmEmail(callContext(), { token, password })).toEqual({ customerId }); // the fifth: right

    // Another account's link, tried with seven passwords at once: every one counts, five are
    // checked, and the right password comes too late.
    const other = await register();
    const guesses = await Promise.allSettled(
      Array.from({ length: 7 }, (_, i) => api().confirmEmail(callContext(), { token: other.token, password: `g${i}` })),
    );
    expect(
      guesses.map((g) => (g.status === 'rejected' ? (g.reason as { code: string }).code : 'confirmed')).sort(),
    ).toEqual([
      ...Array<string>(2).fill('invalid-confirmation-token'),
      ...Array<string>(5).fill('wrong-confirmation-password'),
    ]);
    await expect(api().confirmEmail(callContext(), { token: other.token, password })).rejects.toMatchObject({
      code: 'invalid-confirmation-token',
    });
    await expect(api().login(callContext(), { email: other.email, password })).rejects.toMatchObject({
      code: 'email-not-confirmed',
    });
  });

  it("takes the account's own password for a link mailed before links carried one: the password it keeps", async () => {
    const { email, customerId, token } = await register();
    await asAdmin(
      identity.database,
      'UPDATE identity.email_confirmations SET password_hash = NULL WHERE customer_id = $1',
      [customerId],
    );
    await expect(api().confirmEmail(callContext(), { token, password: 'anything at all' })).rejects.toMatchObject({
      code: 'wrong-confirmation-password',
    });
    expect(await api().confirmEmail(callContext(), { token, password })).toEqual({ customerId });
    await expect(api().login(callContext(), { email, password })).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('two links of one account followed at once: one confirms, the other finds its link spent (no deadlock)', async () => {
    const { email, customerId, token } = await register();
    // A second link for the same account, as registering again a minute later mails it.
    await asAdmin(
      identity.database,
      "UPDATE identity.account_emails SET last_sent_at = now() - interval '1 day' WHERE customer_id = $1",
      [customerId],
    );
    await api().register(callContext(), { email, password: 'the second registration' });
    const second = (await eventsOf(customerId)).filter((e) => e.type === 'identity.email-confirmation-requested')[1]
      .payload.token!;
    // The account's row held elsewhere, so that both confirmations are under way at the same moment.
    const holder = new Client({
      connectionString: withDatabase(identity.database.adminUrl, identity.database.database),
    });
    await holder.connect();
    let confirming: Promise<PromiseSettledResult<unknown>[]>;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM identity.customers WHERE customer_id = $1 FOR UPDATE', [customerId]);
      confirming = Promise.allSettled([
        api().confirmEmail(callContext(), { token, password }),
        api().confirmEmail(callContext(), { token: second, password: 'the second registration' }),
      ]);
      await eventually(
        async () =>
          (
            await holder.query<{ waiting: number }>(
              "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
          ).rows[0].waiting,
        { until: (waiting) => waiting === 2, what: 'both confirmations waiting for a lock' },
      );
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
    const outcomes = await confirming;
    const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'confirmed' : (o.reason as { code: string }).code));
    expect(codes.sort()).toEqual(['confirmed', 'invalid-confirmation-token']);
  });

  it('mails an account at most once a minute and five times a day for each kind of email, answering every registration the same', async () => {
    const { email, customerId } = await register();
    const admin = (sql: string) => asAdmin(identity.database, sql, [customerId]);
    const again = () => api().register(callContext(), { email, password: 'another password entirely' });
    const sent = async (type: string) => (await eventsOf(customerId)).filter((e) => e.type === type).length;
    const links = () => sent('identity.email-confirmation-requested');
    /** As if the last email of the account went out a minute ago, or its day's window began a day ago. */
    const aged = (column: 'last_sent_at' | 'window_started_at', seconds: number) =>
      admin(
        `UPDATE identity.account_emails SET ${column} = ${column} - interval '${seconds + 1} seconds' ` +
          'WHERE customer_id = $1',
      );
    const { cooldownSeconds, windowSeconds, perWindow } = DEFAULT_ACCOUNT_EMAILS;

    expect(await again()).toEqual({ customerId });
    expect(await again()).toEqual({ customerId });
    expect(await links()).toBe(1); // within the minute: no new link, and no token stored for one
    expect(await admin('SELECT 1 FROM identity.email_confirmations WHERE customer_id = $1')).toHaveLength(1);

    // A minute on, registrations arriving together take one email between them.
    await aged('last_sent_at', cooldownSeconds);
    await Promise.all([again(), again(), again()]);
    expect(await links()).toBe(2);

    for (let n = 3; n <= perWindow + 1; n++) {
      await aged('last_sent_at', cooldownSeconds);
      expect(await again()).toEqual({ customerId });
    }
    expect(await links()).toBe(perWindow); // the day's share is spent
    await aged('window_started_at', windowSeconds);
    await aged('last_sent_at', cooldownSeconds);
    await again();
    expect(await links()).toBe(perWindow + 1); // a new day

    // Confirmed, the owner is warned of an attempt: its own count, not held back by the links'.
    const [{ payload }] = (await eventsOf(customerId)).slice(-1);
    await api().confirmEmail(callContext(), { token: payload.token!, password: 'another password entirely' });
    await again();
    await again();
    expect(await sent('identity.registration-attempted')).toBe(1);
    await aged('last_sent_at', cooldownSeconds);
    await again();
    expect(await sent('identity.registration-attempted')).toBe(2);
    expect(await links()).toBe(perWindow + 1);
  });

  it('never leaves an account with only expired links: the email window is no longer than a link lives', () => {
    // The last link of a window was sent after it began: once every link has expired, the window
    // has ended and a new one may go. A longer window, or shorter links, would break that.
    const linkSeconds = CONFIRMATION_TTL_HOURS * 3600;
    expect(DEFAULT_ACCOUNT_EMAILS.windowSeconds).toBeLessThanOrEqual(linkSeconds);
    expect(DEFAULT_ACCOUNT_EMAILS.cooldownSeconds).toBeLessThan(linkSeconds);
  });

  it('refuses a wrong password with the answer an unknown address gets', async () => {
    const { email, token } = await register();
    await api().confirmEmail(callContext(), { token, password });
    // Each awaited as it is made: a second call rejecting while the first is awaited is an unhandled rejection.
    await expect(api().login(callContext(), { email, password: 'not the password' })).rejects.toMatchObject({
      kind: 'unauthenticated',
      code: 'invalid-credentials',
    });
    await expect(
      api().login(callContext(), { email: `nobody-${randomUUID()}@example.com`, password }),
    ).rejects.toMatchObject({ kind: 'unauthenticated', code: 'invalid-credentials' });
  });

  it('rotates refresh tokens: a used one is refused, and so is the rest of its family', async () => {
    const { email, token } = await register();
    await api().confirmEmail(callContext(), { token, password });
    const first = await api().login(callContext(), { email, password });
    const second = await api().refresh(callContext(), { refreshToken: first.refreshToken! });
    await expect(api().refresh(callContext(), { refreshToken: first.refreshToken! })).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
    // Reusing a rotated token revokes the whole family: the newest one is gone too.
    await expect(api().refresh(callContext(), { refreshToken: second.refreshToken })).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
  });

  it('publishes the keys its access tokens are signed with', async () => {
    const { email, token } = await register();
    await api().confirmEmail(callContext(), { token, password });
    const { accessToken } = await api().login(callContext(), { email, password });
    const { keys } = await api().getJwks(callContext(), {});
    const kid = JSON.parse(Buffer.from(accessToken.split('.')[0], 'base64url').toString()).kid as string;
    expect(keys.map((key) => key.kid)).toContain(kid);
    expect(keys.every((key) => key.alg === 'ES256' && !('d' in key))).toBe(true); // public halves only
  });

  it('makes an admin only at the word of an admin, and audits who asked', async () => {
    const { email, customerId, token } = await register();
    await expect(api().grantAdmin(asCustomer(customerId), { email })).rejects.toMatchObject({
      kind: 'permission-denied',
    });
    // Not before the account has proven its mailbox: until then it may be anyone's who typed the address.
    await expect(api().grantAdmin(asAdminUser(), { email })).rejects.toMatchObject({
      kind: 'failed-precondition',
      code: 'email-not-confirmed',
    });
    await api().confirmEmail(callContext(), { token, password });
    expect(await api().grantAdmin(asAdminUser(), { email })).toMatchObject({
      customerId,
      roles: ['customer', 'admin'],
      changed: true,
    });
    expect(await api().grantAdmin(asAdminUser(), { email })).toMatchObject({ changed: false });
    const audit = await asAdmin<{ role: string; change: string; actor: string }>(
      identity.database,
      'SELECT role, change, actor FROM identity.role_changes WHERE customer_id = $1',
      [customerId],
    );
    expect(audit).toEqual([{ role: 'admin', change: 'granted', actor: expect.stringContaining('test-admin') }]);
  });

  it('keeps a signing key it makes while a caller has a transaction open: the key commits on its own', async () => {
    // A refresh rotates its token inside a transaction; the key loaded or made meanwhile is
    // remembered for every later token, so it must not be rolled back with that one request.
    const keys = identity.app.get(SigningKeys);
    const uow = identity.registry.get('identity')!.uow;
    let kid = '';
    await expect(
      uow.transaction(async () => {
        kid = (await keys.rotate()).kid;
        throw new Error('the request fails after the key was made');
      }),
    ).rejects.toThrow('the request fails after the key was made');

    expect((await keys.signingKey()).kid).toBe(kid);
    const { keys: published } = await api().getJwks(callContext(), {});
    expect(published.map((key) => key.kid)).toContain(kid);
  });

  it('keeps signing with the key it has while it looks for a newer one: no token waits for the look', async () => {
    const keys = identity.app.get(SigningKeys);
    const { kid } = await keys.signingKey();
    // Another replica holds the keys' table lock (as while it rotates): a look for a newer key waits for it.
    const otherReplica = new Client({
      connectionString: withDatabase(identity.database.adminUrl, identity.database.database),
    });
    await otherReplica.connect();
    const realNow = Date.now.bind(Date);
    try {
      await otherReplica.query('BEGIN');
      await otherReplica.query('LOCK TABLE identity.signing_keys IN SHARE ROW EXCLUSIVE MODE');
      jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 61_000); // the key is a minute old
      expect((await keys.signingKey()).kid).toBe(kid); // answered while the look waits for the lock
      const { email, token } = await register();
      await api().confirmEmail(callContext(), { token, password });
      const { accessToken } = await api().login(callContext(), { email, password });
      expect(JSON.parse(Buffer.from(accessToken.split('.')[0], 'base64url').toString())).toMatchObject({ kid });
    } finally {
      await otherReplica.query('ROLLBACK').catch(() => undefined);
      await otherReplica.end();
      jest.restoreAllMocks();
    }
    // The look goes on once the lock is free; a rotation queues behind it on the same lock.
    expect((await keys.rotate()).kid).not.toBe(kid);
  });

  it('signs on with its key while looks for a newer one fail, a minute apart, for ten minutes at most', async () => {
    const keys = identity.app.get(SigningKeys);
    const { kid } = await keys.signingKey();
    const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const realNow = Date.now.bind(Date);
    let ahead = 0;
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + ahead);
    const looksFailed = () =>
      warned.mock.calls.filter(([, message]) => String(message).includes('could not look for a newer signing key'));
    // The look under way, if any (a private field: whether a call started one is what is tested).
    const lookUnderWay = () => (keys as unknown as { reloading?: Promise<void> }).reloading;
    await asAdmin(identity.database, 'ALTER TABLE identity.signing_keys RENAME TO signing_keys_away');
    try {
      ahead = 61_000; // due for a look, which fails
      expect((await keys.signingKey()).kid).toBe(kid);
      await lookUnderWay();
      expect(looksFailed()).toHaveLength(1);
      ahead = 90_000; // within a minute of the failed look: no other
      expect((await keys.signingKey()).kid).toBe(kid);
      expect(lookUnderWay()).toBeUndefined();
      ahead = 125_000; // a minute after it: one more, and the key still signs
      expect((await keys.signingKey()).kid).toBe(kid);
      await lookUnderWay();
      expect(looksFailed()).toHaveLength(2);
      ahead = 11 * 60_000; // unconfirmed for ten minutes: a token waits for a load, and hears it fail
      await expect(keys.signingKey()).rejects.toThrow(/signing_keys/);
    } finally {
      await asAdmin(identity.database, 'ALTER TABLE identity.signing_keys_away RENAME TO signing_keys');
      jest.restoreAllMocks();
    }
    expect((await keys.signingKey()).kid).toBe(kid); // loaded again once the table is back
  });

  it('sweeps refresh tokens expired for a day, the families they leave empty, links spent a day ago, and past throttle and account-email windows', async () => {
    const { customerId } = await register();
    const [expired, live] = [randomUUID(), randomUUID()];
    const admin = (sql: string, params: unknown[] = []) => asAdmin(identity.database, sql, params);
    await admin('INSERT INTO identity.refresh_token_families (family_id, customer_id) VALUES ($1, $3), ($2, $3)', [
      expired,
      live,
      customerId,
    ]);
    await admin(
      `INSERT INTO identity.refresh_tokens (token_hash, family_id, customer_id, expires_at) VALUES
         ($4, $1, $3, now() - interval '25 hours'), ($5, $2, $3, now() + interval '1 hour')`,
      [expired, live, customerId, `hash-${expired}`, `hash-${live}`],
    );
    const window = DEFAULT_LOGIN_THROTTLE.windowSeconds;
    await admin(
      `INSERT INTO identity.login_throttle (key, attempts, window_started_at) VALUES
         ('past-' || $1, 3, now() - make_interval(secs => $2 + 1)), ('current-' || $1, 3, now())`,
      [customerId, window],
    );
    const { customerId: recent } = await register(); // its link and its account-email count stay
    await admin(
      `INSERT INTO identity.email_confirmations (token_hash, customer_id, expires_at) VALUES
         ('spent-' || $1, $1::uuid, now() - interval '25 hours'),
         ('used-' || $1, $1::uuid, now() - interval '1 hour')`,
      [customerId],
    );
    await admin("UPDATE identity.email_confirmations SET used_at = now() - interval '25 hours' WHERE token_hash = $1", [
      `used-${customerId}`,
    ]);
    await admin(
      `UPDATE identity.account_emails SET window_started_at = now() - make_interval(secs => $2 + 1),
         last_sent_at = now() - make_interval(secs => $2 + 1) WHERE customer_id = $1`,
      [customerId, DEFAULT_ACCOUNT_EMAILS.windowSeconds],
    );

    await identity.app.get(IdentityHousekeeping).sweepNow(); // the module's own sweeper

    const families = await admin('SELECT family_id FROM identity.refresh_token_families WHERE customer_id = $1', [
      customerId,
    ]);
    expect(families).toEqual([{ family_id: live }]);
    const windows = await admin('SELECT key FROM identity.login_throttle WHERE key LIKE $1', [`%-${customerId}`]);
    expect(windows).toEqual([{ key: `current-${customerId}` }]);
    const links = await admin(
      `SELECT customer_id, token_hash LIKE 'spent-%' OR token_hash LIKE 'used-%' AS spent
       FROM identity.email_confirmations WHERE customer_id IN ($1, $2)`,
      [customerId, recent],
    );
    expect(links).toEqual(
      expect.arrayContaining([
        { customer_id: customerId, spent: false },
        { customer_id: recent, spent: false },
      ]),
    );
    expect(links).toHaveLength(2);
    const counts = await admin('SELECT customer_id FROM identity.account_emails WHERE customer_id IN ($1, $2)', [
      customerId,
      recent,
    ]);
    expect(counts).toEqual([{ customer_id: recent }]);
  });
});
