import { ficus } from '../flags/flags-cli';
import { ShopClient } from '../support/http-client';
import { databaseUrlOf, shopWithConsole, type ShopWithConsole } from '../support/console';

interface FlagsAnswer {
  targets: Array<{
    target: string;
    modules: string[];
    unavailable?: string;
    flags?: Array<{
      name: string;
      state: string;
      default: string | null;
      description: string | null;
      updatedBy: string | null;
      log: Array<{ from: string | null; to: string; by: string; reason?: string }>;
    }>;
  }>;
}

const FLAG = 'notifications.new-confirmation-email';

/**
 * The Flags page's API beside the monolith: every flag its code declares, with its default,
 * description and changes; a change as `ficus flags set` makes it, the admin named in the log,
 * refused when someone changed the flag since the page showed it (checked in the same transaction
 * as the change: of two admins sending at once, one wins).
 */
describe("the console's flags, beside the monolith", () => {
  let running: ShopWithConsole;
  let admin: ShopClient;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    running = await shopWithConsole('console_flags');
    const console = new ShopClient(running.console.url);
    admin = console.withToken(
      (await console.post<{ accessToken: string }>('/api/session', running.admin)).body.accessToken,
    );
    env = { ...process.env, DATABASE_URL: databaseUrlOf(running.shop), FICUS_ACTOR: 'ops@cli' };
  }, 120_000);
  afterAll(async () => {
    await running?.close();
  });

  const flagNow = async () => {
    const answer = await admin.get<FlagsAnswer>('/api/flags');
    expect(answer.status).toBe(200);
    return answer.body.targets[0].flags!.find((flag) => flag.name === FLAG)!;
  };
  const change = (state: string, expected: string, reason?: string) =>
    admin.post<{ change: { from: string | null; to: string; by: string }; code?: string; detail?: string }>(
      `/api/flags/monolith/${FLAG}`,
      { state, expected, reason },
    );

  it('lists every flag the monolith declares, with its default and description', async () => {
    const answer = await admin.get<FlagsAnswer>('/api/flags');
    expect(answer.body.targets.map((t) => [t.target, t.unavailable])).toEqual([['monolith', undefined]]);
    expect(await flagNow()).toMatchObject({
      state: 'off',
      default: 'off',
      description: expect.stringMatching(/\w+/),
      updatedBy: null,
      log: [],
    });
  });

  it('sets a flag as `ficus flags set` does, the admin and the reason in its log', async () => {
    const set = await change('10 %', 'off', 'try the new wording on a few');
    expect([set.status, set.body.change]).toEqual([
      200,
      expect.objectContaining({ from: null, to: 'percent 10', by: `${running.admin.email} (ficus console)` }),
    ]);
    expect(await flagNow()).toMatchObject({
      state: 'percent 10',
      updatedBy: `${running.admin.email} (ficus console)`,
      log: [{ from: null, to: 'percent 10', reason: 'try the new wording on a few' }],
    });
    // The deployment's own log, read by the CLI: the change is there as any other.
    const history = await ficus(['flags', 'history', FLAG, '--json'], env);
    expect(JSON.parse(history.out)[0]).toMatchObject({
      to: 'percent 10',
      by: `${running.admin.email} (ficus console)`,
    });
  });

  it('refuses a change when the flag moved since the page showed it, and of two at once lets one through', async () => {
    expect((await ficus(['flags', 'set', FLAG, 'on'], env)).code).toBe(0);
    const stale = await change('off', 'percent 10');
    expect([stale.status, stale.body.code]).toEqual([409, 'changed-meanwhile']);
    expect((await flagNow()).state).toBe('on');

    const both = await Promise.all([change('percent 20', 'on'), change('percent 30', 'on')]);
    expect(both.map((answer) => answer.status).sort()).toEqual([200, 409]);
    const winner = both.find((answer) => answer.status === 200)!.body.change.to;
    expect((await flagNow()).state).toBe(winner);
  });

  it('refuses states that are none, flags and targets that do not exist, and anyone but an admin', async () => {
    for (const [path, body, status, code] of [
      [`/api/flags/monolith/${FLAG}`, { state: 'sometimes', expected: 'on' }, 422, 'invalid-state'],
      [`/api/flags/monolith/${FLAG}`, { state: '101', expected: 'on' }, 422, 'invalid-state'],
      [`/api/flags/monolith/${FLAG}`, { state: 'on' }, 400, 'validation-failed'],
      ['/api/flags/monolith/nobody.declares-this', { state: 'on', expected: 'off' }, 404, 'flag-not-found'],
      [`/api/flags/gateway/${FLAG}`, { state: 'on', expected: 'off' }, 404, 'target-not-found'],
      ['/api/flags/monolith/Not..A..Flag', { state: 'on', expected: 'off' }, 400, 'validation-failed'],
    ] as const) {
      const refused = await admin.post<{ code: string }>(path, body);
      expect([path, body.state, refused.status, refused.body.code]).toEqual([path, body.state, status, code]);
    }
    const console = new ShopClient(running.console.url);
    expect((await console.get('/api/flags')).status).toBe(401);
    const shop = new ShopClient(running.shop.baseUrl);
    const customerToken = (await shop.post<{ accessToken: string }>('/identity/login', running.customer)).body
      .accessToken;
    const asCustomer = await console
      .withToken(customerToken)
      .post<{ code: string }>(`/api/flags/monolith/${FLAG}`, { state: 'on', expected: 'on' });
    expect([asCustomer.status, asCustomer.body.code]).toEqual([403, 'not-an-admin']);
  });
});
