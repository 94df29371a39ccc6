import { base64url, type JWK } from 'jose';
import { IDENTITY, type IdentityApi } from '@contracts/identity';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';
import { asAdmin } from '../support/test-database';

const kidOf = (token: string) =>
  (JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[0]!))) as { kid: string }).kid;

/**
 * Signing keys rotate without downtime: the replaced key stays in the JWKS for an hour, so tokens
 * it signed keep verifying, and an edge whose cached JWKS predates the rotation fetches it again
 * when it meets the new key id.
 */
describe('signing key rotation (monolith)', () => {
  let shop: RunningShop;
  let anonymous: ShopClient;
  let admin: ShopClient;
  const adminEmail = `key-admin-${Date.now()}@example.com`;
  /** The admin signed in now, with the key that signs now. */
  const signInAdmin = async () => {
    const login = await anonymous.post<{ accessToken: string }>('/identity/login', {
      email: adminEmail,
      password: 'admin password here',
    });
    return anonymous.withToken(login.body.accessToken);
  };

  beforeAll(async () => {
    shop = await startShop('key_rotation');
    anonymous = new ShopClient(shop.baseUrl);
    const registered = await anonymous.signUp(adminEmail, 'admin password here');
    await asAdmin(
      shop.database,
      `UPDATE identity.customers SET roles = ARRAY['customer', 'admin'] WHERE customer_id = $1`,
      [registered.customerId],
    );
    admin = await signInAdmin();
  });
  afterAll(() => shop?.close());

  const jwksKids = async (client: ShopClient) =>
    (await client.get<{ keys: JWK[] }>('/.well-known/jwks.json')).body.keys.map((key) => key.kid);

  it('keeps tokens of the replaced key valid, and verifies the new key at an edge whose JWKS cache predates it', async () => {
    const before = await anonymous.signUp();
    const oldKid = kidOf(before.accessToken!);
    // A second replica on the same database: its edge caches the JWKS now, before the rotation.
    const replica = await startShop('key_rotation_replica', { database: shop.database });
    try {
      expect((await before.at(replica.baseUrl).get('/customers/me/orders')).status).toBe(200);

      const rotated = await admin.post<{ kid: string }>('/admin/keys/rotate');
      expect(rotated.status).toBe(201);
      expect(rotated.body.kid).not.toBe(oldKid);
      expect(await jwksKids(anonymous)).toEqual(expect.arrayContaining([oldKid, rotated.body.kid]));

      // Signed before the rotation: still good, on both edges.
      expect((await before.get('/customers/me/orders')).status).toBe(200);
      expect((await before.at(replica.baseUrl).get('/customers/me/orders')).status).toBe(200);

      // Signed after it with the new key: good at the replica, whose cache never saw that key.
      const after = await anonymous.signUp();
      expect(kidOf(after.accessToken!)).toBe(rotated.body.kid);
      expect((await after.at(replica.baseUrl).get('/customers/me/orders')).status).toBe(200);
      expect((await after.get('/customers/me/orders')).status).toBe(200);
    } finally {
      await replica.close();
    }
  });

  it('replaces a key older than FICUS_SIGNING_KEY_ROTATE_DAYS (30) at start-up: published first, signing 10 minutes later', async () => {
    const before = await anonymous.signUp();
    const oldKid = kidOf(before.accessToken!);
    // Every key 31 days older, in the same order: the one signing now is due.
    await asAdmin(
      shop.database,
      "UPDATE identity.signing_keys SET created_at = created_at - interval '31 days', active_from = active_from - interval '31 days'",
    );
    const restarted = await startShop('key_rotation_restart', { database: shop.database });
    let successor: string;
    try {
      const client = new ShopClient(restarted.baseUrl);
      const [pending] = await asAdmin<{ kid: string; minutes: number }>(
        shop.database,
        'SELECT kid, extract(epoch FROM active_from - now()) / 60 AS minutes FROM identity.signing_keys WHERE active_from > now()',
      );
      successor = pending!.kid;
      expect(Number(pending!.minutes)).toBeGreaterThan(9);
      expect(Number(pending!.minutes)).toBeLessThanOrEqual(10);
      expect(await jwksKids(client)).toEqual(expect.arrayContaining([oldKid, successor]));
      // Until then the old key signs, and its tokens verify.
      expect(kidOf((await client.signUp()).accessToken!)).toBe(oldKid);
      expect((await before.at(restarted.baseUrl).get('/customers/me/orders')).status).toBe(200);
    } finally {
      await restarted.app.close();
    }
    // Ten minutes on (as far as the table can tell), a fresh replica signs with the successor.
    await asAdmin(
      shop.database,
      "UPDATE identity.signing_keys SET active_from = now() - interval '1 second' WHERE kid = $1",
      [successor],
    );
    const later = await startShop('key_rotation_later', { database: shop.database });
    try {
      const after = await new ShopClient(later.baseUrl).signUp();
      expect(kidOf(after.accessToken!)).toBe(successor);
      expect((await after.at(later.baseUrl).get('/customers/me/orders')).status).toBe(200);
      expect((await before.at(later.baseUrl).get('/customers/me/orders')).status).toBe(200);
    } finally {
      await later.app.close();
    }
  });

  it('retires a replaced key an hour after its successor took over', async () => {
    const before = await jwksKids(anonymous);
    // Every key so far took over more than an hour ago, as far as the table can tell.
    await asAdmin(
      shop.database,
      "UPDATE identity.signing_keys SET created_at = created_at - interval '2 hours', active_from = active_from - interval '2 hours'",
    );
    const rotated = await admin.post<{ kid: string }>('/admin/keys/rotate');
    expect(rotated.status).toBe(201);
    const after = await jwksKids(anonymous);
    // The newest of the old keys signed until a moment ago: it stays; the ones it replaced go.
    expect(after).toEqual([rotated.body.kid, before[0]]);
    const retired = await asAdmin<{ kid: string }>(
      shop.database,
      'SELECT kid FROM identity.signing_keys WHERE retired_at IS NOT NULL',
    );
    expect(retired.map((row) => row.kid)).toEqual(expect.arrayContaining(before.slice(1)));
    expect(retired.map((row) => row.kid)).not.toContain(before[0]);
  });

  it('refuses a rotation from anyone but an admin, at identity too', async () => {
    const customer = await anonymous.signUp();
    expect((await customer.post('/admin/keys/rotate')).status).toBe(403);
    expect((await anonymous.post('/admin/keys/rotate')).status).toBe(401);
    const identity = shop.app.get<symbol, IdentityApi>(IDENTITY, { strict: false });
    const asCustomer = {
      deadline: Date.now() + 5_000,
      correlationId: 'test',
      caller: { subject: customer.customerId, roles: ['customer'] },
    };
    await expect(
      identity.rotateSigningKey(asCustomer as Parameters<IdentityApi['rotateSigningKey']>[0], {}),
    ).rejects.toMatchObject({
      kind: 'permission-denied',
    });
  });

  // Last: it retires the key every token of this file was signed with, the admin's too.
  it('retires every other key at once when asked (a leaked key): their tokens stop verifying, a new sign-in works', async () => {
    const email = `holder-${Date.now()}@example.com`;
    const holder = await anonymous.signUp(email, 'holder password');
    admin = await signInAdmin(); // the keys that signed its first token may have retired above
    const oldKid = kidOf(holder.accessToken!);
    expect((await holder.get('/customers/me/orders')).status).toBe(200);
    // A body that is not the route's changes nothing.
    expect((await admin.post('/admin/keys/rotate', { retirePrevious: 'yes' })).status).toBe(422);
    expect((await admin.post('/admin/keys/rotate', { retire: true })).status).toBe(422);
    // As `curl -d` sends it: a form the edge does not read, never taken for no body at all.
    const form = await admin.request('POST', '/admin/keys/rotate', {
      rawBody: 'retirePrevious=true',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form).toMatchObject({ status: 415, body: { code: 'unsupported-media-type' } });
    expect(kidOf((await anonymous.signUp()).accessToken!)).toBe(oldKid);

    const rotated = await admin.post<{ kid: string }>('/admin/keys/rotate', { retirePrevious: true });
    expect(rotated.status).toBe(201);
    expect(await jwksKids(anonymous)).toEqual([rotated.body.kid]);
    expect((await holder.get('/customers/me/orders')).status).toBe(401);
    expect((await admin.get('/admin/dead-letters')).status).toBe(401);
    const kept = await asAdmin<{ kid: string; retired: boolean; sealed: boolean }>(
      shop.database,
      'SELECT kid, retired_at IS NOT NULL AS retired, private_jwk_sealed IS NOT NULL AS sealed FROM identity.signing_keys',
    );
    // Only the new key can sign: the others have no private half left.
    expect(kept.filter((key) => key.sealed).map((key) => key.kid)).toEqual([rotated.body.kid]);
    expect(kept.filter((key) => !key.retired).map((key) => key.kid)).toEqual([rotated.body.kid]);

    const again = await anonymous.post<{ accessToken: string }>('/identity/login', {
      email,
      password: 'holder password',
    });
    expect(kidOf(again.body.accessToken)).toBe(rotated.body.kid);
    expect((await anonymous.withToken(again.body.accessToken).get('/customers/me/orders')).status).toBe(200);
  });
});
