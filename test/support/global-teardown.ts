import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

type Global = typeof globalThis & { __ficusTestDatabase?: { stop(): Promise<void> }; __ficusStartedKafka?: boolean };

/** Stops what globalSetup started, and only that. */
export default async function globalTeardown(): Promise<void> {
  const global = globalThis as Global;
  await global.__ficusTestDatabase?.stop();
  if (global.__ficusStartedKafka) {
    spawnSync(process.execPath, ['-r', '@swc-node/register', 'infra/deploy/kafka/kafka-broker.ts', 'stop'], {
      cwd: resolve(__dirname, '../..'),
      stdio: 'inherit',
    });
  }
}
