import { randomUUID } from 'node:crypto';
import { IdentityContract } from '@contracts/identity';
import { withDatabase } from '@infra/persistence';
import { ContractBus } from '@infra/messaging';
import { ficus } from '../flags/flags-cli';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';
import { asAdmin } from '../support/test-database';

/**
 * Who is an admin (issue 15, item 1): registering never makes one, whatever address is used and
 * whatever FICUS_ADMIN_EMAILS lists; an operator grants the role with `ficus admins`, through
 * identity's contract, audited; identity refuses the change to anyone but an admin.
 */
describe('admins are made by an operator or an admin, never by registering', () => {
  let shop: RunningShop;
  let cli: (argv: string[]) => ReturnType<typeof ficus>;
  const listed = `root-${randomUUID()}@example.com`;

  beforeAll(async () => {
    shop = await startShop('admins', { env: { FICUS_ADMIN_EMAILS: listed } });
    const databaseUrl = withDatabase(shop.database.adminUrl, shop.database.database);
    const env = { ...process.env, FICUS_DB_ROLE_SECRET: shop.database.roleSecret, FICUS_ACTOR: 'ana (ticket OPS-1)' };
    cli = (argv) => ficus([...argv, '--database-url', databaseUrl], env);
  });
  afterAll(async () => {
    await shop?.close();
  });

  const signIn = async (email: string) => {
    const login = await new ShopClient(shop.baseUrl).post<{ accessToken: string }>('/identity/login', {
      email,
      password: 'correct horse battery',
    });
    expect(login.status).toBe(200);
    return new ShopClient(shop.baseUrl, login.body.accessToken);
  };

  it('a registrant with an address FICUS_ADMIN_EMAILS lists, in any letter case, is a customer and nothing more', async () => {
    const anonymous = new ShopClient(shop.baseUrl);
    const registered = await anonymous.post('/identity/register', {
      email: listed.toUpperCase(),
      password: 'correct horse battery',
    });
    expect(registered.status).toBe(202);
    await anonymous.confirmEmail(listed, 'correct horse battery');
    const registrant = await signIn(listed);
    expect((await registrant.get('/admin/dead-letters')).status).toBe(403);
    const rows = await asAdmin<{ roles: string[] }>(
      shop.database,
      'SELECT roles FROM identity.customers WHERE email = $1',
      [listed],
    );
    expect(rows).toEqual([{ roles: ['customer'] }]);
  });

  it('the operator makes the first admin with `ficus admins grant`, audited, and lists and revokes (never the last one)', async () => {
    const first = `ops-${randomUUID()}@example.com`;
    const second = `ops-${randomUUID()}@example.com`;
    for (const email of [first, second]) await new ShopClient(shop.baseUrl).signUp(email);

    expect((await cli(['admins', 'list'])).out).toContain('no admin yet');
    const granted = await cli(['admins', 'grant', first.toUpperCase()]);
    expect(granted).toMatchObject({ code: 0 });
    expect(granted.out).toContain(`${first} is now an admin (the first admin of this shop`);
    expect((await cli(['admins', 'grant', first])).out).toContain('is an admin already');
    expect((await (await signIn(first)).get('/admin/dead-letters')).status).toBe(200);

    const audit = await asAdmin<{ change: string; actor: string }>(
      shop.database,
      'SELECT change, actor FROM identity.role_changes r JOIN identity.customers c USING (customer_id) WHERE c.email = $1',
      [first],
    );
    expect(audit).toEqual([{ change: 'granted', actor: 'operator:ana (ticket OPS-1)' }]);

    const refused = await cli(['admins', 'revoke', first]);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('is the last admin');

    expect((await cli(['admins', 'grant', second, '--json'])).out).toContain('"changed":true');
    const list = await cli(['admins', 'list', '--json']);
    expect((JSON.parse(list.out) as Array<{ email: string }>).map((a) => a.email).sort()).toEqual(
      [first, second].sort(),
    );
    expect((await cli(['admins', 'revoke', first])).out).toContain(`${first} is no longer an admin`);
    expect((await (await signIn(first)).get('/admin/dead-letters')).status).toBe(403);

    const unknown = await cli(['admins', 'grant', `nobody-${randomUUID()}@example.com`]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.err).toContain('no account has the email');

    // An address registered and never confirmed may be anyone's: whoever registered it does not
    // become an admin by confirming later.
    const unconfirmed = `ops-${randomUUID()}@example.com`;
    await new ShopClient(shop.baseUrl).post('/identity/register', {
      email: unconfirmed,
      password: 'correct horse battery',
    });
    const early = await cli(['admins', 'grant', unconfirmed]);
    expect(early.code).not.toBe(0);
    expect(early.err).toContain('has not confirmed its email address');
    await new ShopClient(shop.baseUrl).confirmEmail(unconfirmed, 'correct horse battery');
    expect((await (await signIn(unconfirmed)).get('/admin/dead-letters')).status).toBe(403);
  });

  it("identity refuses an admin change to anyone but an admin, whatever the caller's transport let through", async () => {
    const customer = await new ShopClient(shop.baseUrl).signUp();
    const identity = shop.app.get(ContractBus).client(IdentityContract);
    const as = (caller?: { subject: string; roles: string[] }) => ({
      correlationId: 'admins-test',
      deadline: Date.now() + 5_000,
      caller,
    });
    // No end user at all is unauthenticated (ADR 0038: the method is an admin's); a customer is denied.
    const refusals: Array<[{ subject: string; roles: string[] } | undefined, string]> = [
      [undefined, 'unauthenticated'],
      [{ subject: customer.customerId, roles: ['customer'] }, 'permission-denied'],
    ];
    for (const [caller, kind] of refusals) {
      await expect(identity.grantAdmin(as(caller), { email: `x-${randomUUID()}@example.com` })).rejects.toMatchObject({
        kind,
      });
      await expect(identity.listAdmins(as(caller), {})).rejects.toMatchObject({ kind });
    }
  });
});
