import { resolve } from 'node:path';
import { z } from 'zod';
import { BOUNDED_CONTEXTS } from '@contracts/kernel';
import { defineSettings, portNumber, unsetWhenEmpty, wholeNumber } from '@infra/config';
import { databaseOf, DEFAULT_EMBEDDED_PORT, startEmbeddedDatabase, type DatabaseConfig } from '@infra/persistence';

/**
 * The schemas a process provisions besides its contexts': the edge's rate-limit counters, the
 * flags, the discovery registry and an extraction's shadow results.
 */
const PROCESS_SCHEMAS = ['edge', 'flags', 'discovery', 'extraction'];

/**
 * `DATABASE_URL_<SCHEMA>`: a context's (or one of the process's own schemas') database of its own,
 * provisioned by an operator: `DATABASE_URL_INVENTORY`, `DATABASE_URL_FLAGS`.
 */
const CONTEXT_DATABASE_URLS = Object.fromEntries(
  [...BOUNDED_CONTEXTS, ...PROCESS_SCHEMAS].map((context) => [
    `DATABASE_URL_${context.toUpperCase()}`,
    z.preprocess(unsetWhenEmpty, z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' }).optional()),
  ]),
);

const HostVariables = {
  DATABASE_URL: z.preprocess(
    unsetWhenEmpty,
    z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' }).optional(),
  ),
  FICUS_DATA_DIR: z.string().default('.data'),
  FICUS_EMBEDDED_PG_PORT: portNumber().transform((port) => port ?? DEFAULT_EMBEDDED_PORT),
  FICUS_DB_ROLE_SECRET: z.preprocess(
    unsetWhenEmpty,
    z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  ),
  /** Names the databases of a split deployment (`<prefix>_<target>`, `<prefix>_edge`, `<prefix>_registry`). */
  FICUS_DATABASE_PREFIX: z.preprocess(
    unsetWhenEmpty,
    z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,39}$/, { error: 'must be lowercase letters, digits and _ (a database name)' })
      .default('ficus'),
  ),
  FICUS_KAFKA_NAMESPACE: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,39}$/)
    .default('ficus'),
  FICUS_KAFKA_REPLICATION_FACTOR: wholeNumber({ min: 1, max: 5, default: 1, unit: 'replicas' }),
  FICUS_DB_POOL_SIZE: wholeNumber({ min: 3, max: 100, default: 10, unit: 'connections' }),
  /** Split mode: gRPC between processes with mutual TLS, certificates from this folder (npm run certs). */
  FICUS_GRPC_TLS_DIR: z.preprocess(unsetWhenEmpty, z.string().min(1).optional()),
  /**
   * Split mode without mutual TLS, asked for by name: plain-text gRPC, served on 127.0.0.1 only,
   * for a split shop tried on one machine. Without it (or FICUS_GRPC_TLS_DIR) a split process
   * refuses to start: plain text on the network would carry end users' tokens to anyone listening.
   */
  FICUS_GRPC_PLAINTEXT: z.preprocess(
    unsetWhenEmpty,
    z.literal('loopback', { error: 'the only plain-text mode is "loopback"' }).optional(),
  ),
};

export type ProcessEnv = z.output<z.ZodObject<typeof HostVariables>> & {
  /** DATABASE_URL_<CONTEXT>, by context (lowercase). */
  readonly contextUrls: Readonly<Record<string, string>>;
};

/** What the host of a process reads: its database, its Kafka naming, its gRPC security. */
export const ProcessSettings = defineSettings(
  'process',
  { ...HostVariables, ...CONTEXT_DATABASE_URLS },
  (values): ProcessEnv => {
    const all = values as Record<string, unknown>;
    const contextUrls: Record<string, string> = {};
    for (const variable of Object.keys(CONTEXT_DATABASE_URLS)) {
      const url = all[variable];
      if (typeof url === 'string') contextUrls[variable.slice('DATABASE_URL_'.length).toLowerCase()] = url;
    }
    const host = Object.fromEntries(Object.keys(HostVariables).map((name) => [name, all[name]]));
    return { ...(host as z.output<z.ZodObject<typeof HostVariables>>), contextUrls };
  },
);

/** The host's settings alone, for a tool that opens the deployment's database (the CLI). */
export function readProcessEnv(env: NodeJS.ProcessEnv = process.env): ProcessEnv {
  return ProcessSettings.read(env);
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
export async function resolveDatabase(
  env: ProcessEnv,
  log?: (line: string) => void,
  /** Use the embedded server only if it runs already (EmbeddedDatabaseDown otherwise): never start one. */
  onlyIfRunning = false,
): Promise<ResolvedDatabase> {
  const contextUrls = env.contextUrls;
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
    onlyIfRunning,
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
