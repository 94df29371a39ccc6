import 'reflect-metadata';
import { releaseBenchBroker } from './bench-kafka';
import { benchContractCall } from './contract-call.bench';
import { benchGrpc } from './grpc.bench';
import { benchLoadShedding } from './load-shedding.bench';
import { benchObservability } from './observability.bench';
import { line } from './measure';
import { benchOrderThroughput } from './order-throughput.bench';
import { benchOutboxLatency } from './outbox-latency.bench';
import { benchRelay } from './relay.bench';
import { benchSplit } from './split.bench';

/** `npm run bench`: every benchmark, side by side, figures also in bench/results/*.json. */
async function main(): Promise<void> {
  process.env.LOG_LEVEL ??= 'warn';
  process.env.LOG_HTTP_REQUESTS ??= 'false';
  // The benchmarks post from one client as fast as the shop takes it: limits far above that keep
  // the limiter's own work on every request in the measurement without it refusing any (429).
  process.env.FICUS_RATE_LIMIT_DEFAULT ??= '1000000/60s';
  process.env.FICUS_RATE_LIMIT_ORDERS ??= '1000000/60s';
  process.env.FICUS_RATE_LIMIT_IDENTITY ??= '1000000/60s';
  line(`ficus benchmarks — node ${process.version}, ${new Date().toISOString()}`);
  line('ratios are measured side by side in one run; absolute times wander on shared machines\n');
  const only = process.argv[2]; // `npm run bench -- <name>` runs one: contract, orders, grpc, relay, outbox-latency, split, load, observability
  if (!only || only === 'contract') await benchContractCall();
  line('');
  if (!only || only === 'orders') await benchOrderThroughput();
  // each after a blank line, printed only when it runs
  for (const [name, bench] of [
    ['grpc', benchGrpc],
    ['relay', benchRelay],
    ['outbox-latency', benchOutboxLatency],
    ['split', benchSplit],
    ['load', benchLoadShedding],
    ['observability', benchObservability],
  ] as const) {
    if (only && only !== name) continue;
    line('');
    await bench();
  }
}

// Ctrl-C (or a CI timeout) stops the broker the run started, like a normal end does.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    releaseBenchBroker();
    process.exit(130);
  });
}

main()
  .finally(releaseBenchBroker)
  .then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
