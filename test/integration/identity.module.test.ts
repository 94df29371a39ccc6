import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { IdentityContract } from '@contracts/identity';
import { IdentityModule } from '@modules/identity';
import { asAdminUser, asCustomer, callContext, startModule, type ModuleUnderTest } from '../support/module-harness';
import { asAdmin } from '../support/test-database';

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

    expect(await api().confirmEmail(callContext(), { token })).toEqual({ customerId });
    await expect(api().confirmEmail(callContext(), { token })).rejects.toMatchObject({
      code: 'invalid-confirmation-token',
    });
    const tokens = await api().login(callContext(), { email, password });
    expect(decodeJwt(tokens.accessToken)).toMatchObject({ sub: customerId, roles: ['customer'] });
  });

  it('refuses a wrong password with the answer an unknown address gets', async () => {
    const { email, token } = await register();
    await api().confirmEmail(callContext(), { token });
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
    await api().confirmEmail(callContext(), { token });
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
    await api().confirmEmail(callContext(), { token });
    const { accessToken } = await api().login(callContext(), { email, password });
    const { keys } = await api().getJwks(callContext(), {});
    const kid = JSON.parse(Buffer.from(accessToken.split('.')[0], 'base64url').toString()).kid as string;
    expect(keys.map((key) => key.kid)).toContain(kid);
    expect(keys.every((key) => key.alg === 'ES256' && !('d' in key))).toBe(true); // public halves only
  });

  it('makes an admin only at the word of an admin, and audits who asked', async () => {
    const { email, customerId } = await register();
    await expect(api().grantAdmin(asCustomer(customerId), { email })).rejects.toMatchObject({
      kind: 'permission-denied',
    });
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
});
