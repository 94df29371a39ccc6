import 'reflect-metadata';
import { pino } from 'pino';
import { startTracing } from '@infra/observability';
import { serveOperations } from '@apps/http-edge';
import { readProcessEnv, resolveDatabase } from '@infra/runtime';
import { createMonolith } from './create-monolith';

/**
 * `npm start`: the whole shop in one process. Without DATABASE_URL it starts the embedded
 * PostgreSQL under .data/ first; the first start migrates every context and seeds demo data.
 */
async function main(): Promise<void> {
  const log = pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const tracing = startTracing('ficus-monolith');
  const env = readProcessEnv();
  const database = await resolveDatabase(env, (line) => log.debug({ component: 'embedded-postgres' }, line));
  const app = await createMonolith({ database: database.config });
  await app.listen(env.PORT, '0.0.0.0');
  // Probes and scrapes on a port of their own, which a deployment keeps off the public network.
  const operations = await serveOperations(app, { host: '0.0.0.0', port: env.FICUS_OPERATIONS_PORT ?? (env.PORT === 0 ? 0 : env.PORT + 1000) });
  log.info(`ficus monolith listening on http://localhost:${env.PORT} (try GET /catalog/products); /ready and /metrics on port ${operations.port}`);
  const stop = async () => {
    await operations.close();
    await app.close();
    await tracing?.shutdown(); // exports the spans still buffered
    await database.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  pino().fatal({ err: error }, 'ficus monolith failed to start');
  process.exit(1);
});
