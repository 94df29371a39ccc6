import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { serveOperations } from '@apps/http-edge';
import { createMonolith } from '@apps/monolith';
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

/** The whole shop as one process on a fresh database, listening on a free port. */
export async function startShop(label: string, options: { database?: DatabaseConfig } = {}): Promise<RunningShop> {
  const fresh = options.database ? undefined : await freshDatabase(label);
  const database = options.database ?? fresh!.config;
  const app = await createMonolith({ database });
  // A start that fails half-way (a bootstrap hook refusing) must not leave relays running.
  await app.listen(0, '127.0.0.1').catch(async (error: unknown) => {
    await app.close().catch(() => undefined);
    await fresh?.drop();
    throw error;
  });
  const { port } = app.getHttpServer().address() as AddressInfo;
  const operations = await serveOperations(app, { host: '127.0.0.1', port: 0 });
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    operationsUrl: operations.url,
    database,
    close: async () => {
      await operations.close();
      await app.close();
      await fresh?.drop();
    },
  };
}
