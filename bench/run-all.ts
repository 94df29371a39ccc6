import 'reflect-metadata';
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

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
