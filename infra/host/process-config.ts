import { resolve } from 'node:path';
import { z } from 'zod';
import {
  contextUrlsFromEnv,
  databaseOf,
  DEFAULT_EMBEDDED_PORT,
  startEmbeddedDatabase,
  type DatabaseConfig,
} from '@infra/persistence';

const EnvSchema = z.object({
  DATABASE_URL: z.url().optional(),
  FICUS_DATA_DIR: z.string().default('.data'),
  FICUS_EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65_535).default(DEFAULT_EMBEDDED_PORT),
  FICUS_DB_ROLE_SECRET: z.string().min(16).optional(),
  FICUS_REQUEST_BUDGET_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  FICUS_KAFKA_NAMESPACE: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,39}$/)
    .default('ficus'),
  FICUS_KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(5).default(1),
  FICUS_DB_POOL_SIZE: z.coerce.number().int().min(3).max(100).default(10),
  /** Split mode: gRPC between processes with mutual TLS, certificates from this folder (npm run certs). */
  FICUS_GRPC_TLS_DIR: z.preprocess((value) => (value === '' ? undefined : value), z.string().min(1).optional()),
  /**
   * Split mode without mutual TLS, asked for by name: plain-text gRPC, served on 127.0.0.1 only,
   * for a split shop tried on one machine. Without it (or FICUS_GRPC_TLS_DIR) a split process
   * refuses to start: plain text on the network would carry end users' tokens to anyone listening.
   */
  FICUS_GRPC_PLAINTEXT: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.literal('loopback', { error: 'the only plain-text mode is "loopback"' }).optional(),
  ),
  /**
   * The application ficus replaces: what the edge does not serve is proxied there (the topology's
   * edge `legacy` wins).
   */
  FICUS_LEGACY_URL: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.url({ protocol: /^https?$/ }).optional(),
  ),
  /** Path prefixes sent to the legacy application even where ficus has a route, comma-separated. */
  FICUS_LEGACY_ROUTES: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((prefix) => prefix.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^\//, { error: 'each prefix starts with "/"' }))),
  /** Admission control at the HTTP edge: requests served at once, and how many may wait. */
  FICUS_HTTP_MAX_CONCURRENT: z.coerce.number().int().min(1).max(10_000).default(64),
  FICUS_HTTP_MAX_QUEUED: z.coerce.number().int().min(0).max(100_000).default(128),
});

export type ProcessEnv = z.infer<typeof EnvSchema>;

/** Reads the environment once, at start-up, and says clearly what is wrong with it. */
export function readProcessEnv(env: NodeJS.ProcessEnv = process.env): ProcessEnv {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid environment:\n${lines.join('\n')}`);
  }
  return result.data;
}

export interface ResolvedDatabase {
  readonly config: DatabaseConfig;
  /** Stops the embedded server when this process started it. */
  stop(): Promise<void>;
}

/**
 * `DATABASE_URL` (a role that may create roles and schemas) when set; otherwise the embedded
 * PostgreSQL under `FICUS_DATA_DIR`, started on a port of its own.
 */
export async function resolveDatabase(env: ProcessEnv, log?: (line: string) => void): Promise<ResolvedDatabase> {
  const contextUrls = contextUrlsFromEnv(process.env);
  if (env.DATABASE_URL) {
    const adminUrl = env.DATABASE_URL;
    return {
      config: {
        adminUrl,
        database: databaseOf(adminUrl),
        contextUrls,
        // A server without passwords (trust auth) leaves nothing to derive from: a fixed development value.
        roleSecret:
          env.FICUS_DB_ROLE_SECRET ?? (decodeURIComponent(new URL(adminUrl).password) || 'ficus-development-only'),
        poolSize: env.FICUS_DB_POOL_SIZE,
      },
      stop: async () => undefined,
    };
  }
  const embedded = await startEmbeddedDatabase({
    dataDir: resolve(env.FICUS_DATA_DIR, 'postgres'),
    port: env.FICUS_EMBEDDED_PG_PORT,
    portSetting: 'FICUS_EMBEDDED_PG_PORT',
    log,
  });
  return {
    config: {
      adminUrl: embedded.adminUrl,
      database: 'ficus',
      contextUrls,
      roleSecret: env.FICUS_DB_ROLE_SECRET ?? new URL(embedded.adminUrl).password,
      poolSize: env.FICUS_DB_POOL_SIZE,
    },
    stop: () => embedded.stop(),
  };
}
