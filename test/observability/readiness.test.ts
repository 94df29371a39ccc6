import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { AddressInfo } from 'node:net';
import { HEALTH_SETTINGS, HealthModule } from '@apps/http-edge';
import { GrpcPeerProbe, KafkaBrokerProbe } from '@infra/host';
import { Configuration } from '@infra/config';
import { ContextRegistry, FicusModule, ProcessReadiness, ROOT_SETTINGS, type DependencyStatus } from '@infra/runtime';
import { eventually } from '../support/eventually';
import { FaultProxy } from '../support/fault-proxy';
import { startShop, type RunningShop } from '../support/shop';
import { KAFKA_BROKERS } from '../support/topology-shop';

const [brokerHost, brokerPort] = KAFKA_BROKERS[0].split(':');

describe('the broker probe', () => {
  let proxy: FaultProxy;
  let probe: KafkaBrokerProbe;

  beforeAll(async () => {
    proxy = await FaultProxy.start({ host: brokerHost, port: Number(brokerPort) });
    probe = new KafkaBrokerProbe({ brokers: [`127.0.0.1:${proxy.port}`], timeoutMs: 500, cacheMs: 0 });
  });
  afterAll(() => proxy?.close());

  const state = async () => (await probe.check()).up;

  it('is up while the broker answers at its configured address, down while it does not, and up again', async () => {
    expect(await probe.check()).toMatchObject({ up: true });

    proxy.set({ resetNewConnections: true });
    const refused = await eventually(() => probe.check(), { until: (s) => !s.up, what: 'down when refused' });
    expect(refused.detail).toContain(`127.0.0.1:${proxy.port}`);

    proxy.heal();
    await eventually(state, { until: (up) => up, what: 'up once healed' });
  });

  it('answers within its time budget when the broker swallows every packet', async () => {
    proxy.set({ blackhole: true });
    try {
      const started = Date.now();
      expect(await probe.check()).toMatchObject({ up: false });
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      proxy.heal(); // a failure here must not leave the next tests behind a blackhole
    }
    await eventually(state, { until: (up) => up, what: 'up once healed' });
  });

  it('opens one connection per probe and closes it', async () => {
    await probe.check();
    await eventually(() => proxy.connections, { until: (n) => n === 0, what: 'no connection left open' });
  });

  it('shares one answer between the probes of its cache window', async () => {
    const cached = new KafkaBrokerProbe({ brokers: [`127.0.0.1:${proxy.port}`], timeoutMs: 500, cacheMs: 60_000 });
    expect(await cached.check()).toMatchObject({ up: true });
    proxy.set({ resetNewConnections: true });
    expect(await cached.check()).toMatchObject({ up: true }); // the same answer, no new connection
    proxy.heal();
  });
});

describe('the gRPC peer probe', () => {
  let server: Server;
  let proxy: FaultProxy;
  let probe: GrpcPeerProbe;

  beforeAll(async () => {
    server = new Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    proxy = await FaultProxy.start({ host: '127.0.0.1', port });
    probe = new GrpcPeerProbe('peer', `127.0.0.1:${proxy.port}`, 500);
  });
  afterAll(async () => {
    probe?.close();
    await proxy?.close();
    server?.forceShutdown();
  });

  const up = async () => (await probe.check()).up;

  it('is named after the target and never gates readiness', () => {
    expect(probe).toMatchObject({ name: 'peer:peer', gatesReadiness: false });
  });

  it('is up while the peer answers gRPC, down while it does not answer in time, and up again', async () => {
    await eventually(up, { until: (u) => u, what: 'up' });

    proxy.set({ blackhole: true });
    await eventually(up, { until: (u) => !u, what: 'down while blackholed' });

    proxy.heal();
    proxy.resetAll(); // what the blackhole left of the old connection is garbage
    await eventually(up, { until: (u) => u, what: 'up once healed' });

    proxy.set({ resetNewConnections: true });
    proxy.resetAll();
    await eventually(up, { until: (u) => !u, what: 'down while refused' });
    proxy.heal();
    await eventually(up, { until: (u) => u, what: 'up again' });
  });
});

describe('GET /ready with dependencies besides the databases', () => {
  @Module({
    imports: [
      FicusModule.forRoot({ configuration: Configuration.read({}, [...ROOT_SETTINGS, ...HEALTH_SETTINGS]) }),
      HealthModule,
    ],
  })
  class ReadinessOnly {}

  let app: INestApplication;
  let baseUrl: string;
  const broker = { status: { up: true, detail: 'up' } as DependencyStatus };
  const peer = { status: { up: true, detail: 'up' } as DependencyStatus };

  beforeAll(async () => {
    app = await NestFactory.create(ReadinessOnly, { logger: false });
    const readiness = app.get(ProcessReadiness);
    readiness.add({ name: 'kafka', gatesReadiness: true, check: async () => broker.status });
    readiness.add({ name: 'peer:payments', gatesReadiness: false, check: async () => peer.status });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(() => app?.close());

  const ready = async () => {
    const answer = await fetch(`${baseUrl}/ready`);
    return {
      status: answer.status,
      type: answer.headers.get('content-type'),
      body: (await answer.json()) as Record<string, unknown>,
    };
  };

  it('is 200 with every indicator when all are up', async () => {
    const answer = await ready();
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      status: 'ok',
      details: {
        kafka: { status: 'up', gatesReadiness: true },
        'peer:payments': { status: 'up', gatesReadiness: false },
      },
    });
  });

  it('stays 200 when only a peer is down, and says so', async () => {
    peer.status = { up: false, detail: 'UNAVAILABLE' };
    const answer = await ready();
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      status: 'ok',
      error: { 'peer:payments': { status: 'down', gatesReadiness: false } },
    });
    // Why is for the log: anyone can read /ready.
    expect(JSON.stringify(answer.body)).not.toContain('UNAVAILABLE');
    peer.status = { up: true, detail: 'up' };
  });

  it('is 503 problem+json naming the broker when the broker is down', async () => {
    broker.status = { up: false, detail: 'broker not reachable' };
    const answer = await ready();
    expect(answer.status).toBe(503);
    expect(answer.type).toContain('application/problem+json');
    expect(answer.body).toMatchObject({
      status: 503,
      code: 'not-ready',
      detail: 'not ready: kafka',
      error: { kafka: { status: 'down', gatesReadiness: true } },
      details: { 'peer:payments': { status: 'up' } },
    });
    expect(JSON.stringify(answer.body)).not.toContain('broker not reachable');
    broker.status = { up: true, detail: 'up' };
    expect((await ready()).status).toBe(200);
  });
});

describe('GET /ready under a burst (monolith)', () => {
  let shop: RunningShop;

  beforeAll(async () => {
    shop = await startShop('ready_burst');
  });
  afterAll(() => shop?.close());

  it('costs each database one probe however many ask at once, and checks applied migrations once', async () => {
    const runtimes = shop.app.get(ContextRegistry).all();
    expect((await fetch(`${shop.operationsUrl}/ready`)).status).toBe(200); // migrations found applied
    const queries = runtimes.map((runtime) => jest.spyOn(runtime.dataSource, 'query'));
    const migrations = runtimes.map((runtime) => jest.spyOn(runtime.dataSource, 'showMigrations'));
    try {
      const answers = await Promise.all(
        Array.from({ length: 100 }, () => fetch(`${shop.operationsUrl}/ready`).then((answer) => answer.status)),
      );
      expect(answers.every((status) => status === 200)).toBe(true);
      // Shared: one probe per second of the burst at most, not one per request (100 before).
      for (const spy of queries) expect(spy.mock.calls.length).toBeLessThanOrEqual(10);
      for (const spy of migrations) expect(spy).not.toHaveBeenCalled();
    } finally {
      [...queries, ...migrations].forEach((spy) => spy.mockRestore());
    }
  });
});
