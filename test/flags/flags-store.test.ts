import { Test } from '@nestjs/testing';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { defineFlag, Flags, FlagsModule, formatFlagState, LiveFlags, percentState } from '@infra/flags';
import { withDatabase } from '@infra/persistence';
import { eventually } from '../support/eventually';
import { asAdmin, freshDatabase } from '../support/test-database';
import { ficus } from './flags-cli';

/**
 * A process with flags in its database (as FicusModule.forRoot gives every process) and the
 * `ficus flags` command changing them from outside, as an operator would.
 */
describe('flags in PostgreSQL, changed by `ficus flags` while a process runs', () => {
  const ROLLOUT = defineFlag({ name: 'shop.rollout', default: 'off', description: 'a rollout under test' });
  const DECLARED_ON = defineFlag({ name: 'shop.declared-on', default: 'on', description: 'declared on, never set' });
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let app: INestApplicationContext;
  let flags: Flags;
  let url: string;
  const env = () => ({ ...process.env, FICUS_DB_ROLE_SECRET: 'ficus-test-role-secret', USER: 'tester' });
  const cli = (...argv: string[]) => ficus([...argv, '--database-url', url], env());

  beforeAll(async () => {
    database = await freshDatabase('flags');
    url = withDatabase(database.config.adminUrl, database.config.database);
    const testing = await Test.createTestingModule({
      // The periodic re-read is an hour away: whatever arrives sooner came through NOTIFY.
      imports: [
        FlagsModule.forRoot({ database: database.config, refreshMs: 3_600_000 }),
        FlagsModule.forFeature([ROLLOUT, DECLARED_ON]),
      ],
    }).compile();
    app = await testing.init();
    flags = app.get(Flags);
  });
  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('gives declared defaults until a flag is set, and records what the process declares', async () => {
    expect(flags).toBeInstanceOf(LiveFlags);
    expect(flags.isOn(ROLLOUT, 'customer-1')).toBe(false);
    expect(flags.isOn('shop.declared-on')).toBe(true);
    const declared = await asAdmin<{ name: string; default_state: string }>(
      database.config,
      'SELECT name, default_state FROM flags.flag_declarations ORDER BY name',
    );
    expect(declared).toEqual([
      { name: 'shop.declared-on', default_state: 'on' },
      { name: 'shop.rollout', default_state: 'off' },
    ]);
  });

  it('applies `ficus flags set` in the running process without a restart, and logs the change', async () => {
    const set = await cli('flags', 'set', 'shop.rollout', '30', '--reason', 'first tenth and more');
    expect(set).toMatchObject({ code: 0, err: '' });
    expect(set.out).toMatch(/^shop\.rollout: unset → percent 30 \(change #\d+ by tester@/);

    await eventually(() => formatFlagState(flags.state('shop.rollout')), {
      until: (state) => state === 'percent 30',
      what: 'percent 30 reaches the process',
    });
    const subjects = Array.from({ length: 1_000 }, (_, i) => `customer-${i}`);
    const on = subjects.filter((who) => flags.isOn(ROLLOUT, who));
    expect(on.length).toBeGreaterThan(250);
    expect(on.length).toBeLessThan(350);

    const logged = jest.spyOn(Logger.prototype, 'log');
    const raised = await ficus(
      ['flags', 'set', 'shop.rollout', 'percent', '60', '--by', 'alice', '--database-url', url],
      { ...env(), LOG_LEVEL: 'info' },
    );
    expect(raised.code).toBe(0);
    // The command's own JSON log line of the change…
    expect(JSON.parse(raised.err)).toMatchObject({
      msg: 'flag changed',
      flag: 'shop.rollout',
      from: 'percent 30',
      to: 'percent 60',
      by: 'alice',
    });
    await eventually(() => formatFlagState(flags.state(ROLLOUT)), { until: (state) => state === 'percent 60' });
    // …and the running process's, when it applies it.
    expect(logged).toHaveBeenCalledWith(
      expect.objectContaining({ flag: 'shop.rollout', from: 'percent 30', to: 'percent 60', by: 'alice' }),
      'flag shop.rollout changed: percent 30 → percent 60 (by alice)',
    );
    logged.mockRestore();
    // Raising the share kept everyone who had it.
    expect(on.every((who) => flags.isOn(ROLLOUT, who))).toBe(true);

    const log = await asAdmin<{
      from_state: string | null;
      to_state: string;
      changed_by: string;
      reason: string | null;
    }>(
      database.config,
      "SELECT from_state, to_state, changed_by, reason FROM flags.flag_changes WHERE name = 'shop.rollout' ORDER BY id",
    );
    expect(log).toEqual([
      {
        from_state: null,
        to_state: 'percent 30',
        changed_by: expect.stringMatching(/^tester@/),
        reason: 'first tenth and more',
      },
      { from_state: 'percent 30', to_state: 'percent 60', changed_by: 'alice', reason: null },
    ]);
  });

  it('prints the history, newest first, as text and as JSON', async () => {
    await cli('flags', 'set', 'shop.declared-on', 'off', '--by', 'bob');
    const text = await cli('flags', 'history', 'shop.rollout');
    expect(text.code).toBe(0);
    const lines = text.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^#\d+ {2}\S+Z {2}percent 30 → percent 60 {2}by alice$/);
    expect(lines[1]).toMatch(/unset → percent 30 {2}by tester@\S+ {2}\(first tenth and more\)$/);

    const json = await cli('flags', 'history', 'shop.rollout', '--json', '--limit', '1');
    expect(JSON.parse(json.out)).toEqual([
      {
        id: expect.any(Number),
        name: 'shop.rollout',
        from: 'percent 30',
        to: 'percent 60',
        state: 'percent',
        percent: 60,
        by: 'alice',
        reason: null,
        at: expect.any(String),
      },
    ]);
  });

  it('lists every declared or set flag with its state, default and description', async () => {
    await eventually(() => flags.isOn('shop.declared-on'), { until: (on) => !on });
    const json = await cli('flags', 'list', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual([
      {
        name: 'shop.declared-on',
        state: 'off',
        default: 'on',
        declared: true,
        description: 'declared on, never set',
        updatedAt: expect.any(String),
        updatedBy: 'bob',
      },
      {
        name: 'shop.rollout',
        state: 'percent',
        percent: 60,
        default: 'off',
        declared: true,
        description: 'a rollout under test',
        updatedAt: expect.any(String),
        updatedBy: 'alice',
      },
    ]);
    const text = await cli('flags', 'list');
    expect(text.out.split('\n')[0]).toMatch(/^FLAG +STATE +DEFAULT +LAST CHANGE$/);
    expect(text.out).toMatch(/shop\.rollout +percent 60 +off +\S+ by alice\n {2}a rollout under test/);
  });

  it('refuses a flag no process declares (unless forced), and a state that is none, with exit codes', async () => {
    const unknown = await cli('flags', 'set', 'shop.rolout', 'on');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(
      /no process of this deployment declares a flag "shop\.rolout" \(declared: shop\.declared-on, shop\.rollout\).*--force/,
    );
    const forced = await cli('flags', 'set', 'shop.later', 'on', '--force');
    expect(forced.code).toBe(0);

    const bad = await cli('flags', 'set', 'shop.rollout', '150');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/whole number from 0 to 100/);
    expect(formatFlagState(flags.state(ROLLOUT))).toBe('percent 60');
  });

  it('reads LOG_LEVEL as the shop does: any letter case logs, and a level it refuses changes nothing', async () => {
    const before = formatFlagState(flags.state(DECLARED_ON)); // off, since bob's change above
    const withLevel = (level: string, ...argv: string[]) =>
      ficus([...argv, '--database-url', url], { ...env(), LOG_LEVEL: level });
    const loud = await withLevel('loud', 'flags', 'set', 'shop.declared-on', 'on', '--by', 'carol');
    expect(loud.code).toBe(2);
    expect(loud.err).toMatch(/LOG_LEVEL: must be one of/);
    const [{ n }] = await asAdmin<{ n: string }>(
      database.config,
      "SELECT count(*) AS n FROM flags.flag_changes WHERE changed_by LIKE 'carol%'",
    );
    expect(Number(n)).toBe(0); // refused before the change, not after it

    // Before, pino refused `WARN` after the change had committed: the command failed, the flag changed.
    const shouting = await withLevel('WARN', 'flags', 'set', 'shop.declared-on', 'on', '--by', 'carol');
    expect(shouting).toMatchObject({ code: 0, err: '' }); // at warn, the info line of the change is not written
    await eventually(() => formatFlagState(flags.state(DECLARED_ON)), { until: (state) => state === 'on' });
    expect(before).not.toBe('on');
  });

  it('keeps the change log append-only, even for the role that writes it', async () => {
    const store = (flags as LiveFlags).store;
    await expect(store.dataSource.query("UPDATE flag_changes SET changed_by = 'mallory'")).rejects.toThrow(
      /append-only: UPDATE refused/,
    );
    await expect(store.dataSource.query('DELETE FROM flag_changes')).rejects.toThrow(/append-only: DELETE refused/);
    await expect(store.dataSource.query('TRUNCATE flag_changes')).rejects.toThrow(/append-only: TRUNCATE refused/);
  });

  it('catches a change whose NOTIFY never came, at the next periodic re-read', async () => {
    const other = await Test.createTestingModule({
      imports: [FlagsModule.forRoot({ database: database.config, refreshMs: 100 })],
    }).compile();
    const process2 = await other.init();
    try {
      const watcher = process2.get(Flags);
      // Written behind the store's back: no pg_notify, so only the re-read can find it.
      await asAdmin(
        database.config,
        `INSERT INTO flags.flag_states (name, state, percent, change_id, updated_at, updated_by)
         VALUES ('shop.silent', 'on', NULL, 0, now(), 'admin')`,
      );
      await eventually(() => watcher.isOn('shop.silent'), { until: (on) => on, what: 'the periodic re-read' });
      expect(watcher.state('shop.rollout')).toEqual(percentState(60));
    } finally {
      await process2.close();
    }
  });
});
