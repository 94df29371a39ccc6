import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { ConfigurationError } from '@infra/config';
import { samplerOf, SpanKind, startSpan, startTracing, type TracingHandle } from '@infra/observability';
import { eventually } from '../support/eventually';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';

describe('which traces are recorded: OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG', () => {
  it('reads every sampler of the specification, in any case, and the ratio of those that take one', () => {
    expect(samplerOf({}).toString()).toMatch(/^ParentBased\{root=AlwaysOnSampler/);
    expect(
      samplerOf({ OTEL_TRACES_SAMPLER: ' ParentBased_TraceIdRatio ', OTEL_TRACES_SAMPLER_ARG: ' 0.25' }).toString(),
    ).toMatch(/^ParentBased\{root=TraceIdRatioBased\{0\.25\}/);
    expect(samplerOf({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '.1' }).toString()).toBe(
      'TraceIdRatioBased{0.1}',
    );
    expect(samplerOf({ OTEL_TRACES_SAMPLER: 'traceidratio' }).toString()).toBe('TraceIdRatioBased{1}');
    expect(samplerOf({ OTEL_TRACES_SAMPLER: 'always_off' }).toString()).toBe('AlwaysOffSampler');
    expect(samplerOf({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }).toString()).toMatch(
      /^ParentBased\{root=AlwaysOffSampler/,
    );
    expect(samplerOf({ OTEL_TRACES_SAMPLER: '' }).toString()).toMatch(/^ParentBased\{root=AlwaysOnSampler/);
  });

  it('refuses a sampler it does not have and a ratio that is none, naming the variable', () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['OTEL_TRACES_SAMPLER', { OTEL_TRACES_SAMPLER: 'jaeger_remote' }],
      ['OTEL_TRACES_SAMPLER', { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio,always_on' }],
      ...['1.5', '-0.1', 'half', '0x1', '10%', 'NaN', 'Infinity', '1e3'].map(
        (ratio): [string, Record<string, string>] => [
          'OTEL_TRACES_SAMPLER_ARG',
          { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: ratio },
        ],
      ),
    ];
    for (const [variable, env] of cases) {
      let refused: unknown;
      try {
        samplerOf(env);
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(ConfigurationError);
      expect((refused as ConfigurationError).issues.map((issue) => issue.variable)).toEqual([variable]);
    }
    expect(() => startTracing('ficus-test', { OTEL_TRACES_SAMPLER: 'xray' })).toThrow(ConfigurationError);
  });

  it('stops a process that is asked for one before it starts anything: the problem in plain words, no stack', async () => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/monolith/src/main.ts'], {
      cwd: resolve(__dirname, '../..'),
      env: { ...process.env, OTEL_TRACES_SAMPLER: 'xray', LOG_LEVEL: 'fatal' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    expect(code).toBe(1);
    expect(errors).toMatch(
      /^ficus monolith cannot start: invalid configuration .*\n {2}OTEL_TRACES_SAMPLER: must be one of /,
    );
    expect(errors).not.toMatch(/\bat .*\.ts:\d+/);
  });
});

describe('a process that records no spans still says which traces are sampled', () => {
  // Split with an edge that exports nothing (propagate mode) and services that export: the
  // services follow the flag of the traceparent the edge began, so the edge's sampler decides.
  const flagsOf = async (env: Record<string, string>) => {
    const tracing = startTracing('ficus-test', { OTEL_TRACES_EXPORTER: 'none', ...env });
    try {
      const flags = new Set<string>();
      for (let n = 0; n < 200; n++) {
        const begun = startSpan('GET /things', { kind: SpanKind.SERVER, parent: undefined, entry: true }).traceparent!;
        flags.add(begun.slice(-2));
        // One it is handed keeps its flag, whatever this process's sampler.
        const handed = startSpan('process x', {
          kind: SpanKind.CONSUMER,
          parent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
          entry: true,
        });
        expect(handed.traceparent).toMatch(/^00-a{32}-[\da-f]{16}-01$/);
      }
      return [...flags].sort();
    } finally {
      await tracing?.shutdown();
    }
  };

  it('flags the traces it begins as its sampler decides', async () => {
    expect(await flagsOf({})).toEqual(['01']);
    expect(await flagsOf({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' })).toEqual(['00']);
    expect(await flagsOf({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' })).toEqual([
      '00',
      '01',
    ]);
  });
});

describe('a tenth of none: traces sampled out are not recorded, and keep their ids (monolith)', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: TracingHandle | undefined;
  let shop: RunningShop;

  beforeAll(async () => {
    // Ratio 0: a trace this process begins is never recorded; one a proxy in front decided to
    // sample (its traceparent's flags, with FICUS_HTTP_TRACEPARENT=continue) is, all of it.
    tracing = startTracing(
      'ficus-test',
      { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' },
      exporter,
    );
    shop = await startShop('tracing_sampled', { env: { FICUS_HTTP_TRACEPARENT: 'continue' } });
  });
  afterAll(async () => {
    await shop?.close();
    await tracing?.shutdown();
  });

  it('records no span of an order whose trace is sampled out, in any step of its saga; its timeline still names its trace', async () => {
    const customer = await new ShopClient(shop.baseUrl).signUp();
    exporter.reset();
    const placed = await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }]);
    expect((await customer.finalOrder(placed.body.orderId)).status).toBe('CONFIRMED');
    const { traceId } = (await customer.get<{ traceId: string }>(`/orders/${placed.body.orderId}/timeline`)).body;
    expect(traceId).toMatch(/^[\da-f]{32}$/);

    // A sampled order placed after it ends after it too: once its saga is recorded whole, nothing
    // of the first can be on its way still.
    const sampledTrace = '6bf92f3577b34da6a3ce929d0e0e4738';
    const sampled = await customer.request<{ orderId: string }>('POST', '/orders', {
      body: { items: [{ sku: 'FICUS-LYRATA', quantity: 1 }], paymentToken: 'tok_visa' },
      headers: { traceparent: `00-${sampledTrace}-00f067aa0ba902b7-01` },
    });
    expect((await customer.finalOrder(sampled.body.orderId)).status).toBe('CONFIRMED');
    const recorded = await eventually(
      () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === sampledTrace),
      { until: (spans) => spans.filter((s) => s.name === 'process ordering.order-confirmed').length === 2 },
    );
    for (const name of ['POST /orders', 'transaction ordering', 'process payments.payment-completed']) {
      expect(recorded.map((s) => s.name)).toContain(name);
    }
    expect(exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId)).toEqual([]);
    // Every span recorded belongs to the sampled order's trace (sign-up's requests were sampled out).
    expect(new Set(exporter.getFinishedSpans().map((s) => s.spanContext().traceId))).toEqual(new Set([sampledTrace]));
  });
});
