import { randomBytes } from 'node:crypto';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { pino } from 'pino';
import { runTarget } from '@apps/service';
import { loadTopology, shippedTopologyPath, type Topology } from '@infra/topology';
import type { DatabaseConfig } from '@infra/persistence';
import { freshDatabase } from './test-database';

export interface RunningShop {
  readonly app: NestExpressApplication;
  readonly baseUrl: string;
  /** Its operations port: /health, /ready and /metrics (the public port answers only /health). */
  readonly operationsUrl: string;
  readonly database: DatabaseConfig;
  close(): Promise<void>;
}

/**
 * The whole shop as one process on a fresh database, listening on free ports: the shipped
 * monolith.yaml run by `runTarget`, as `npm start` runs it, on loopback.
 */
export async function startShop(
  label: string,
  /** `env`: variables over the test process's own, read by the shop at start-up. */
  options: { database?: DatabaseConfig; port?: number; env?: Readonly<Record<string, string>> } = {},
): Promise<RunningShop> {
  const fresh = options.database ? undefined : await freshDatabase(label);
  const database = options.database ?? fresh!.config;
  const running = await runTarget({
    topology: monolithOnFreePorts(options.port),
    log: pino({ level: 'silent' }),
    database,
    env: { ...process.env, ...options.env },
  }).catch(async (error: unknown) => {
    await fresh?.drop();
    throw error;
  });
  return {
    app: running.app,
    baseUrl: running.url,
    operationsUrl: running.operationsUrl,
    database,
    close: async () => {
      await running.close();
      await fresh?.drop();
    },
  };
}

/**
 * What a shop started with NODE_ENV=production must be given, as a deployment gives it: its own
 * key-encryption key, the fake payment provider allowed by name, its public address and an SMTP
 * server. Nothing listens on loopback's port 9: the tests that start such a shop mail nobody.
 */
export function productionEnv(): Record<string, string> {
  return {
    NODE_ENV: 'production',
    FICUS_KEY_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    FICUS_FAKE_PAYMENTS: 'allow-in-production',
    FICUS_PUBLIC_URL: 'https://shop.example.com',
    FICUS_SMTP_URL: 'smtp://127.0.0.1:9',
  };
}

/** The shipped monolith.yaml on 127.0.0.1, its public port `port` (default a free one), its operations port a free one. */
export function monolithOnFreePorts(port = 0): Topology {
  const topology = loadTopology(shippedTopologyPath('monolith'));
  return topology.withTarget('monolith', (target) => ({
    ...target,
    http: { host: '127.0.0.1', port },
    operations: { host: '127.0.0.1', port: 0 },
  }));
}
