import 'reflect-metadata';
import { benchContractCall } from './contract-call.bench';
import { line } from './measure';
import { benchOrderThroughput } from './order-throughput.bench';

/** `npm run bench`: every benchmark, side by side, figures also in bench/results/*.json. */
async function main(): Promise<void> {
  process.env.LOG_LEVEL ??= 'warn';
  process.env.LOG_HTTP_REQUESTS ??= 'false';
  line(`ficus benchmarks — node ${process.version}, ${new Date().toISOString()}`);
  line('ratios are measured side by side in one run; absolute times wander on shared machines\n');
  const only = process.argv[2]; // `npm run bench -- contract` or `-- orders` runs one
  if (!only || only === 'contract') await benchContractCall();
  line('');
  if (!only || only === 'orders') await benchOrderThroughput();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
