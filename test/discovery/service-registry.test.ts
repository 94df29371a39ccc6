import { randomBytes } from 'node:crypto';
import { InstanceRegistration, RegistryWatcher, ServiceRegistry, type InstanceAnnouncement } from '@infra/discovery';
import { dropDatabase, type DatabaseConfig } from '@infra/persistence';
import { eventually } from '../support/eventually';
import { asAdmin, testAdminUrl } from '../support/test-database';

/** The registry on a real PostgreSQL: join, heartbeat, expiry, leave, and the watcher's view. */

const database = `ficus_test_registry_${randomBytes(4).toString('hex')}`;
const config: DatabaseConfig = {
  adminUrl: testAdminUrl(),
  database: 'unused',
  contextUrls: {},
  roleSecret: 'ficus-test-role-secret',
  poolSize: 2,
};
let registry: ServiceRegistry;

const instance = (id: string, port: number, target = 'inventory'): InstanceAnnouncement => ({
  target,
  instanceId: id,
  grpcAddress: `127.0.0.1:${port}`,
  httpAddress: `127.0.0.1:${port + 1000}`,
});
const idsOf = (list: readonly { instanceId?: string; id?: string }[]): string[] =>
  list.map((i) => i.instanceId ?? i.id ?? '?').sort();

beforeAll(async () => {
  registry = await ServiceRegistry.open(config, database);
});

afterAll(async () => {
  await registry.close();
  await dropDatabase(testAdminUrl(), database);
});

describe('ServiceRegistry', () => {
  it('keeps its entries in schema discovery, owned by role ficus_discovery, and opens twice without harm', async () => {
    const [owner] = await asAdmin<{ owner: string }>(
      { adminUrl: testAdminUrl(), database },
      "SELECT tableowner AS owner FROM pg_tables WHERE schemaname = 'discovery' AND tablename = 'service_instances'",
    );
    expect(owner?.owner).toBe('ficus_discovery');
    const again = await Promise.all([ServiceRegistry.open(config, database), ServiceRegistry.open(config, database)]);
    await Promise.all(again.map((r) => r.close()));
  });

  it('returns the instances that joined, per target, until they leave', async () => {
    await registry.join(instance('join-a', 7001, 'catalog'));
    await registry.join(instance('join-b', 7002, 'catalog'));
    await registry.join(instance('join-c', 7003, 'payments'));
    const live = await registry.live(['catalog'], 60_000);
    expect(live.map(({ instanceId, grpcAddress, httpAddress }) => ({ instanceId, grpcAddress, httpAddress }))).toEqual([
      { instanceId: 'join-a', grpcAddress: '127.0.0.1:7001', httpAddress: '127.0.0.1:8001' },
      { instanceId: 'join-b', grpcAddress: '127.0.0.1:7002', httpAddress: '127.0.0.1:8002' },
    ]);
    expect(live[0].startedAt).toBeInstanceOf(Date);
    await registry.leave('catalog', 'join-a');
    expect(idsOf(await registry.live(['catalog', 'payments'], 60_000))).toEqual(['join-b', 'join-c']);
  });

  it('stops returning an instance whose heartbeats stopped once its entry is older than the TTL, and keeps one that beats', async () => {
    const ttlMs = 600;
    const beating = new InstanceRegistration(registry, instance('beats', 7011, 'shipping'), 100);
    await beating.join();
    await registry.join(instance('crashed', 7012, 'shipping')); // joined, then never renewed: a crash
    const joinedAt = Date.now();
    expect(idsOf(await registry.live(['shipping'], ttlMs))).toEqual(['beats', 'crashed']);

    const seen = await eventually(() => registry.live(['shipping'], ttlMs), {
      until: (live) => !live.some((i) => i.instanceId === 'crashed'),
      timeoutMs: 5_000,
      what: 'the silent instance expires',
    });
    expect(Date.now() - joinedAt).toBeGreaterThanOrEqual(ttlMs - 50); // not before its TTL (clock of the database vs ours)
    expect(idsOf(seen)).toEqual(['beats']);

    // Three TTLs later the beating one is still there, at every look.
    const missing: number[] = [];
    await eventually(
      async () => {
        if (!(await registry.live(['shipping'], ttlMs)).some((i) => i.instanceId === 'beats')) missing.push(Date.now());
        return Date.now() - joinedAt;
      },
      { until: (elapsed) => elapsed > 3 * ttlMs, timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(missing).toEqual([]);

    await beating.leave();
    // left at once: deleted, not merely expired (the crashed one's entry is still there, just stale)
    expect(idsOf(await registry.live(['shipping'], 60_000))).toEqual(['crashed']);
  });

  it('a heartbeat brings back an entry that was removed behind its back', async () => {
    const registration = new InstanceRegistration(registry, instance('comeback', 7021, 'identity'), 100);
    await registration.join();
    await asAdmin(
      { adminUrl: testAdminUrl(), database },
      "DELETE FROM discovery.service_instances WHERE instance_id = 'comeback'",
    );
    await eventually(() => registry.live(['identity'], 60_000), {
      until: (live) => live.length === 1,
      timeoutMs: 5_000,
    });
    await registration.leave();
  });
});

describe('RegistryWatcher', () => {
  it('sees joins and leaves at once (NOTIFY) and expiries at its next read', async () => {
    // A periodic read far slower than the test: what arrives fast came by notification.
    const notified = new RegistryWatcher(registry, ['notifications'], { ttlMs: 60_000, refreshMs: 60_000 });
    const polling = new RegistryWatcher(registry, ['notifications'], { ttlMs: 500, refreshMs: 100 });
    await notified.start();
    await polling.start();
    try {
      const changes: string[][] = [];
      notified.sourceOf('notifications').subscribe((endpoints) => changes.push(idsOf(endpoints)));
      expect(notified.sourceOf('notifications').current()).toEqual([]);

      await registry.join(instance('n-1', 7031, 'notifications'));
      await registry.join(instance('n-2', 7032, 'notifications'));
      await eventually(() => idsOf(notified.sourceOf('notifications').current()), {
        until: (ids) => ids.length === 2,
        timeoutMs: 3_000,
      });
      expect(notified.sourceOf('notifications').current()).toContainEqual({ id: 'n-1', address: '127.0.0.1:7031' });

      await registry.leave('notifications', 'n-1');
      await eventually(() => idsOf(notified.sourceOf('notifications').current()), {
        until: (ids) => ids.join() === 'n-2',
        timeoutMs: 3_000,
      });
      expect(changes.at(-1)).toEqual(['n-2']);

      // n-2 never renews: gone from the polling watcher after its 500 ms TTL, without any notification
      await eventually(() => polling.sourceOf('notifications').current(), {
        until: (list) => list.length === 0,
        timeoutMs: 5_000,
      });
      expect(() => notified.sourceOf('ordering')).toThrow(/does not watch ordering/);
    } finally {
      await notified.close();
      await polling.close();
    }
  });
});
