import { randomUUID } from 'node:crypto';
import { hashRefreshToken } from '../../modules/identity/src/domain/refresh-token';
import { ShopClient, type HttpAnswer } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';
import { asAdmin } from '../support/test-database';

interface Tokens {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
}

/**
 * Refresh tokens (OAuth 2.1 BCP, RFC 6819 §5.2.2.3): opaque, stored hashed, rotated on every use;
 * a used token presented again revokes its whole family; logout revokes the family. Every refusal
 * is the same 401 problem+json `invalid-refresh-token`.
 */
describe('refresh tokens (monolith)', () => {
  let shop: RunningShop;
  let anonymous: ShopClient;
  const PASSWORD = 'correct horse battery';

  beforeAll(async () => {
    shop = await startShop('refresh_tokens');
    anonymous = new ShopClient(shop.baseUrl);
  });
  afterAll(() => shop?.close());

  /** A new customer's first sign-in. */
  async function signIn(): Promise<Tokens & { customerId: string; email: string }> {
    const email = `refresh-${randomUUID()}@example.com`;
    const registered = await anonymous.post('/identity/register', { email, password: PASSWORD });
    expect(registered.status).toBe(202);
    const customerId = await anonymous.confirmEmail(email, PASSWORD);
    const login = await anonymous.post<Tokens>('/identity/login', { email, password: PASSWORD });
    expect(login.status).toBe(200);
    return { ...login.body, customerId, email };
  }
  const refresh = (refreshToken: unknown) => anonymous.post<Tokens>('/identity/token', { refreshToken });
  const logout = (refreshToken: unknown) => anonymous.post('/identity/logout', { refreshToken });

  function expectRefused(answer: HttpAnswer<unknown>, code = 'invalid-refresh-token'): void {
    expect({ status: answer.status, contentType: answer.headers.get('content-type') }).toEqual({
      status: 401,
      contentType: expect.stringContaining('application/problem+json'),
    });
    expect(answer.body).toMatchObject({ status: 401, code });
    expect(JSON.stringify(answer.body)).not.toMatch(/\bat \S+ \(|\.ts:\d+|node_modules|stack|hash|family/i);
  }

  it('login returns an opaque refresh token next to the access token, stored only as its SHA-256', async () => {
    const tokens = await signIn();
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, refreshExpiresIn: 720 * 3600 });
    expect(tokens.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits, not a JWT
    const rows = await asAdmin<{ token_hash: string; customer_id: string; expires_at: Date }>(
      shop.database,
      'SELECT token_hash, customer_id, expires_at FROM identity.refresh_tokens WHERE customer_id = $1',
      [tokens.customerId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(hashRefreshToken(tokens.refreshToken));
    expect(rows[0]!.token_hash).not.toContain(tokens.refreshToken);
    const hoursLeft = (new Date(rows[0]!.expires_at).getTime() - Date.now()) / 3_600_000;
    expect(hoursLeft).toBeGreaterThan(719);
    expect(hoursLeft).toBeLessThanOrEqual(720);
  });

  it('trades a refresh token for a working access token and a new refresh token (rotation)', async () => {
    const first = await signIn();
    const next = await refresh(first.refreshToken);
    expect(next.status).toBe(200);
    expect(next.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(next.body.refreshToken).not.toBe(first.refreshToken);
    expect(next.body.accessToken).not.toBe(first.accessToken);
    expect((await anonymous.withToken(next.body.accessToken).get('/customers/me/orders')).status).toBe(200);
    // And the new one rotates in turn.
    const third = await refresh(next.body.refreshToken);
    expect(third.status).toBe(200);
    expect((await anonymous.withToken(third.body.accessToken).get('/customers/me/orders')).status).toBe(200);
  });

  it('refuses the old refresh token once it has been used', async () => {
    const first = await signIn();
    expect((await refresh(first.refreshToken)).status).toBe(200);
    expectRefused(await refresh(first.refreshToken));
  });

  it('revokes the whole family when a used token comes back: the newest token fails too', async () => {
    const first = await signIn();
    const second = await refresh(first.refreshToken); // the customer (or the thief) rotates
    const third = await refresh(second.body.refreshToken);
    expect(third.status).toBe(200);
    expectRefused(await refresh(first.refreshToken)); // the other holder replays the old one
    expectRefused(await refresh(third.body.refreshToken));
    const family = await asAdmin<{ revoked_at: Date | null }>(
      shop.database,
      'SELECT revoked_at FROM identity.refresh_tokens WHERE customer_id = $1',
      [first.customerId],
    );
    expect(family).toHaveLength(3);
    expect(family.every((row) => row.revoked_at !== null)).toBe(true);
    // Another sign-in of the same customer is a family of its own, untouched.
    const login = await anonymous.post<Tokens>('/identity/login', { email: first.email, password: PASSWORD });
    expect((await refresh(login.body.refreshToken)).status).toBe(200);
  });

  it('lets only one of two concurrent refreshes with the same token through', async () => {
    const first = await signIn();
    const answers = await Promise.all([refresh(first.refreshToken), refresh(first.refreshToken)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);
    // The loser was a reuse: the winner's new token went down with the family.
    const winner = answers.find((a) => a.status === 200)!;
    expectRefused(await refresh(winner.body.refreshToken));
  });

  it('logout revokes the family: 204, then neither that token nor its successors refresh', async () => {
    const first = await signIn();
    const second = await refresh(first.refreshToken);
    const out = await logout(second.body.refreshToken);
    expect(out.status).toBe(204);
    expectRefused(await refresh(second.body.refreshToken));
    // Logging out twice is harmless; an unknown token is refused like everywhere else.
    expect((await logout(second.body.refreshToken)).status).toBe(204);
    expectRefused(await logout('x'.repeat(43)));
  });

  it('refuses an expired refresh token', async () => {
    const tokens = await signIn();
    await asAdmin(
      shop.database,
      "UPDATE identity.refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
      [hashRefreshToken(tokens.refreshToken)],
    );
    expectRefused(await refresh(tokens.refreshToken));
  });

  it.each([
    [
      'random bytes of the right shape',
      () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url'),
    ],
    ['an access token', () => 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln'],
    ['a hash of a real token (what a copy of the table holds)', () => 'use-hash'],
    ['unicode', () => '𝔣𝔦𝔠𝔲𝔰'],
  ])('refuses garbage: %s', async (_name, make) => {
    let token = make();
    if (token === 'use-hash') token = hashRefreshToken((await signIn()).refreshToken);
    expectRefused(await refresh(token));
  });

  it.each([
    ['no refresh token', {}],
    ['an empty one', { refreshToken: '' }],
    ['a number', { refreshToken: 42 }],
    ['an oversize one', { refreshToken: 'a'.repeat(10_000) }],
    ['an extra field', { refreshToken: 'abc', scope: 'admin' }],
  ])('answers a malformed body (%s) with 422 problem+json', async (_name, body) => {
    const answer = await anonymous.post('/identity/token', body);
    expect(answer.status).toBe(422);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
  });
});
