import { Pool } from 'pg';
import { provisionContext, type DatabaseConfig } from '@infra/persistence';

/** The registry's schema and role (`ficus_discovery`), kept apart like a context's. */
export const DISCOVERY_SCHEMA = 'discovery';
/** Joins and leaves are announced here (payload: the target), so watchers re-read at once. */
export const DISCOVERY_CHANNEL = 'ficus_discovery';
/** One process creates the table at a time: every process of a deployment opens the registry at start. */
const SCHEMA_LOCK = 0x6669_6473; // "fids"
/** Entries silent this long are deleted outright; until then a stale one is merely not returned. */
const FORGET_AFTER = "interval '1 hour'";

/** What an instance says of itself when it joins. */
export interface InstanceAnnouncement {
  readonly target: string;
  readonly instanceId: string;
  /** host:port where callers reach its gRPC server. */
  readonly grpcAddress: string;
  /** host:port of its /health, /ready and /metrics. */
  readonly httpAddress: string;
}

export interface ServiceInstance extends InstanceAnnouncement {
  readonly startedAt: Date;
  readonly lastSeen: Date;
}

interface InstanceRow {
  target: string;
  instance_id: string;
  grpc_address: string;
  http_address: string;
  started_at: Date;
  last_seen: Date;
}

/** The registry's database: `<FICUS_DATABASE_PREFIX>_registry` on the deployment's server. */
export function registryDatabaseName(prefix: string): string {
  return `${prefix}_registry`;
}

/**
 * The instances of each deploy target, in PostgreSQL (ADR 0030): every deployment already runs
 * one, so the registry adds no server to operate. An instance joins at start, renews its entry
 * every heartbeat and leaves on shutdown; one that stops renewing (a crash) is no longer returned
 * once its entry is older than the TTL. Times are the database's clock, never a process's, so
 * processes with skewed clocks agree on who is live.
 */
export class ServiceRegistry {
  private constructor(
    private readonly pool: Pool,
    /** The URL a watcher LISTENs with (the registry role's own). */
    readonly url: string,
  ) {}

  /**
   * Provisions the `discovery` schema and role in `database` (or uses `DATABASE_URL_DISCOVERY`
   * as given) and creates the table if needed.
   */
  static async open(config: DatabaseConfig, database: string): Promise<ServiceRegistry> {
    const url = await provisionContext({ ...config, database }, DISCOVERY_SCHEMA);
    const pool = new Pool({
      connectionString: url,
      max: 2,
      application_name: `ficus:${DISCOVERY_SCHEMA}`,
      options: `-c search_path=${DISCOVERY_SCHEMA}`,
      connectionTimeoutMillis: 5_000,
    });
    pool.on('error', () => undefined); // an idle connection lost; the next query opens another
    const registry = new ServiceRegistry(pool, url);
    try {
      await registry.createTable();
    } catch (error) {
      await pool.end();
      throw error;
    }
    return registry;
  }

  /** Enters (or re-enters) an instance and tells the watchers. */
  async join(instance: InstanceAnnouncement): Promise<void> {
    await this.pool.query(
      `WITH joined AS (
         INSERT INTO service_instances (target, instance_id, grpc_address, http_address, started_at, last_seen)
         VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp())
         ON CONFLICT (target, instance_id) DO UPDATE
           SET grpc_address = EXCLUDED.grpc_address, http_address = EXCLUDED.http_address,
               started_at = EXCLUDED.started_at, last_seen = EXCLUDED.last_seen
         RETURNING target)
       SELECT pg_notify('${DISCOVERY_CHANNEL}', target) FROM joined`,
      [instance.target, instance.instanceId, instance.grpcAddress, instance.httpAddress],
    );
  }

  /** Renews an entry; an entry that is gone (deleted, or never made it) is made again. */
  async renew(instance: InstanceAnnouncement): Promise<void> {
    const renewed = await this.pool.query(
      'UPDATE service_instances SET last_seen = clock_timestamp() WHERE target = $1 AND instance_id = $2',
      [instance.target, instance.instanceId],
    );
    if (renewed.rowCount === 0) await this.join(instance);
  }

  /** Removes an instance (graceful shutdown) and tells the watchers. */
  async leave(target: string, instanceId: string): Promise<void> {
    await this.pool.query(
      `WITH gone AS (DELETE FROM service_instances WHERE target = $1 AND instance_id = $2 RETURNING target)
       SELECT pg_notify('${DISCOVERY_CHANNEL}', target) FROM gone`,
      [target, instanceId],
    );
  }

  /** The instances of `targets` whose entry was renewed within `ttlMs`, by target then id. */
  async live(targets: readonly string[], ttlMs: number): Promise<ServiceInstance[]> {
    const { rows } = await this.pool.query<InstanceRow>(
      `SELECT target, instance_id, grpc_address, http_address, started_at, last_seen
         FROM service_instances
        WHERE target = ANY($1::text[]) AND last_seen > clock_timestamp() - $2::int * interval '1 millisecond'
        ORDER BY target, instance_id`,
      [targets, ttlMs],
    );
    return rows.map((row) => ({
      target: row.target,
      instanceId: row.instance_id,
      grpcAddress: row.grpc_address,
      httpAddress: row.http_address,
      startedAt: row.started_at,
      lastSeen: row.last_seen,
    }));
  }

  /** Deletes entries nobody has renewed for an hour (crashed instances never leave). */
  async forgetLongGone(): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM service_instances WHERE last_seen < clock_timestamp() - ${FORGET_AFTER}`,
    );
    return rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /**
   * Entries live seconds, so the table has no history to migrate: it is created if missing, under
   * a lock because every process of a deployment does this at the same moment.
   */
  private async createTable(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      await client.query(`
        CREATE TABLE IF NOT EXISTS service_instances (
          target text NOT NULL,
          instance_id text NOT NULL,
          grpc_address text NOT NULL,
          http_address text NOT NULL,
          started_at timestamptz NOT NULL,
          last_seen timestamptz NOT NULL,
          PRIMARY KEY (target, instance_id)
        )`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
