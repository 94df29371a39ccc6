import 'reflect-metadata';
import { given } from '@infra/config';

/**
 * `npm run bench [-- <name>] [-- --smoke]`: every benchmark (or the one named), side by side,
 * figures also in bench/results/*.json and, after a full run of all of them, the charts of
 * docs/performance/. `--smoke` runs each with small counts, as `.ci/run` does, so that none can
 * rot unnoticed; its figures are not written over the full run's and no aim is checked.
 */
const BENCHMARKS = [
  'contract',
  'orders',
  'grpc',
  'relay',
  'outbox-latency',
  'split',
  'load',
  'observability',
  'graphql',
] as const;
type BenchmarkName = (typeof BENCHMARKS)[number];

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const only = args.find((arg) => !arg.startsWith('--')) as BenchmarkName | undefined;
if (only && !BENCHMARKS.includes(only)) {
  process.stderr.write(`npm run bench: no benchmark "${only}"; there are ${BENCHMARKS.join(', ')}\n`);
  process.exit(2);
}
// Read by bench-scale.ts when the benchmarks load below: set before any of them is imported.
if (smoke) process.env.FICUS_BENCH_SMOKE = '1';
process.env.LOG_LEVEL = given(process.env.LOG_LEVEL) ?? 'warn';
process.env.LOG_HTTP_REQUESTS = given(process.env.LOG_HTTP_REQUESTS) ?? 'false';
// The benchmarks post from one client as fast as the shop takes it: limits far above that keep
// the limiter's own work on every request in the measurement without it refusing any (429).
process.env.FICUS_RATE_LIMIT_DEFAULT = given(process.env.FICUS_RATE_LIMIT_DEFAULT) ?? '1000000/60s';
process.env.FICUS_RATE_LIMIT_ORDERS = given(process.env.FICUS_RATE_LIMIT_ORDERS) ?? '1000000/60s';
process.env.FICUS_RATE_LIMIT_IDENTITY = given(process.env.FICUS_RATE_LIMIT_IDENTITY) ?? '1000000/60s';

// Loaded with require, after FICUS_BENCH_SMOKE is set above (a static import would load them first).
/* eslint-disable @typescript-eslint/no-require-imports */
function benchmark(name: BenchmarkName): () => Promise<unknown> {
  switch (name) {
    case 'contract':
      return (require('./contract-call.bench') as typeof import('./contract-call.bench')).benchContractCall;
    case 'orders':
      return (require('./order-throughput.bench') as typeof import('./order-throughput.bench')).benchOrderThroughput;
    case 'grpc':
      return (require('./grpc.bench') as typeof import('./grpc.bench')).benchGrpc;
    case 'relay':
      return (require('./relay.bench') as typeof import('./relay.bench')).benchRelay;
    case 'outbox-latency':
      return (require('./outbox-latency.bench') as typeof import('./outbox-latency.bench')).benchOutboxLatency;
    case 'split':
      return (require('./split.bench') as typeof import('./split.bench')).benchSplit;
    case 'load':
      return (require('./load-shedding.bench') as typeof import('./load-shedding.bench')).benchLoadShedding;
    case 'observability':
      return (require('./observability.bench') as typeof import('./observability.bench')).benchObservability;
    case 'graphql':
      return (require('./graphql.bench') as typeof import('./graphql.bench')).benchGraphql;
  }
}

async function main(): Promise<void> {
  const { line } = require('./measure') as typeof import('./measure');
  line(
    `ficus benchmarks${smoke ? ' (smoke: small counts, figures not kept, no aim checked)' : ''} — node ${process.version}, ${new Date().toISOString()}`,
  );
  line('ratios are measured side by side in one run; absolute times wander on shared machines');
  for (const name of only ? [only] : BENCHMARKS) {
    line('');
    await benchmark(name)();
  }
  if (!smoke && !only) {
    const { renderCharts } = require('./charts') as typeof import('./charts');
    line('');
    line(`charts: ${(await renderCharts()).join(', ')}`);
  }
}

function releaseBroker(): void {
  (require('./bench-kafka') as typeof import('./bench-kafka')).releaseBenchBroker();
}
/* eslint-enable @typescript-eslint/no-require-imports */

// Ctrl-C (or a CI timeout) stops the broker the run started, like a normal end does.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    releaseBroker();
    process.exit(130);
  });
}

main()
  .finally(releaseBroker)
  .then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
