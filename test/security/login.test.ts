import { randomUUID } from 'node:crypto';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';
import { asAdmin } from '../support/test-database';

/**
 * Passwords and sign-in: argon2id at OWASP's parameters, one answer for an unknown email and a
 * wrong password, and failed attempts throttled per account and address in PostgreSQL, so that
 * two replicas on one database enforce one limit.
 */
describe('passwords and login (monolith)', () => {
  let shop: RunningShop;
  let anonymous: ShopClient;

  beforeAll(async () => {
    shop = await startShop('login');
    anonymous = new ShopClient(shop.baseUrl);
  });
  afterAll(() => shop?.close());

  const email = () => `login-${randomUUID()}@example.com`;
  const PASSWORD = 'correct horse battery';
  const login = (client: ShopClient, address: string, password: string) =>
    client.post('/identity/login', { email: address, password });

  it('stores argon2id hashes with m ≥ 19 MiB, t ≥ 2, p = 1', async () => {
    const address = email();
    expect((await anonymous.post('/identity/register', { email: address, password: PASSWORD })).status).toBe(202);
    const [row] = await asAdmin<{ password_hash: string }>(
      shop.database,
      'SELECT password_hash FROM identity.customers WHERE email = $1',
      [address],
    );
    const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(
      row!.password_hash,
    );
    expect(match).not.toBeNull();
    const [, memoryKiB, iterations, lanes] = match!.map(Number);
    expect(memoryKiB).toBeGreaterThanOrEqual(19 * 1024);
    expect(iterations).toBeGreaterThanOrEqual(2);
    expect(lanes).toBe(1);
    expect(row!.password_hash).not.toContain(PASSWORD);
  });

  it('answers an unknown email exactly as a wrong password', async () => {
    const known = email();
    await anonymous.signUp(known, PASSWORD);
    const wrongPassword = await login(anonymous, known, 'not the password');
    const unknownEmail = await login(anonymous, email(), 'not the password');
    expect(wrongPassword.status).toBe(401);
    expect({
      status: unknownEmail.status,
      body: unknownEmail.body,
      type: unknownEmail.headers.get('content-type'),
    }).toEqual({
      status: wrongPassword.status,
      body: wrongPassword.body,
      type: wrongPassword.headers.get('content-type'),
    });
    expect(wrongPassword.body).toMatchObject({ code: 'invalid-credentials' });
  });

  it('throttles the sixth attempt in 15 minutes on one account from one address: 429 with Retry-After', async () => {
    const victim = email();
    await anonymous.signUp(victim, PASSWORD);
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      expect((await login(anonymous, victim, `guess ${attempt}`)).status).toBe(401);
    }
    const throttled = await login(anonymous, victim, PASSWORD); // even the right password, now
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('content-type')).toContain('application/problem+json');
    expect(throttled.body).toMatchObject({ status: 429, code: 'too-many-login-attempts' });
    const retryAfter = Number(throttled.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    // Other accounts from the same address are not locked out by it.
    const bystander = email();
    await anonymous.signUp(bystander, PASSWORD);
    expect((await login(anonymous, bystander, PASSWORD)).status).toBe(200);
  });

  it('throttles an unknown email the same way, so the throttle tells nothing about accounts', async () => {
    const nobody = email();
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      expect((await login(anonymous, nobody, `guess ${attempt}`)).status).toBe(401);
    }
    expect((await login(anonymous, nobody, 'guess 6')).status).toBe(429);
  });

  it('starts an account afresh after a successful login', async () => {
    const forgetful = email();
    await anonymous.signUp(forgetful, PASSWORD);
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      expect((await login(anonymous, forgetful, `guess ${attempt}`)).status).toBe(401);
    }
    expect((await login(anonymous, forgetful, PASSWORD)).status).toBe(200);
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      expect((await login(anonymous, forgetful, `again ${attempt}`)).status).toBe(401);
    }
    expect((await login(anonymous, forgetful, 'again 6')).status).toBe(429);
  });

  it('counts attempts across replicas: two shops on one database enforce one limit', async () => {
    const second = await startShop('login_replica', { database: shop.database });
    try {
      const replica = new ShopClient(second.baseUrl);
      const target = email();
      await anonymous.signUp(target, PASSWORD);
      for (let attempt = 1; attempt <= 5; attempt += 1) {
        const client = attempt % 2 === 0 ? replica : anonymous;
        expect((await login(client, target, `guess ${attempt}`)).status).toBe(401);
      }
      expect((await login(replica, target, PASSWORD)).status).toBe(429);
      expect((await login(anonymous, target, PASSWORD)).status).toBe(429);
    } finally {
      // The first shop owns the database: only the second application is closed.
      await second.app.close();
    }
  });

  it('stores neither emails nor addresses in the throttle', async () => {
    const rows = await asAdmin<{ key: string }>(shop.database, 'SELECT key FROM identity.login_throttle');
    expect(rows.length).toBeGreaterThan(0);
    for (const { key } of rows) {
      expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  });
});
