import type { DataSource } from 'typeorm';
import { openModuleDataSource, provisionContext, type DatabaseConfig } from '@infra/persistence';
import { FlagTables1764000002800 } from '@infra/persistence/flag-tables.migration';
import { checkFlagName, type FlagDefinition } from './flag-definition';
import { FLAG_OFF, formatFlagState, parseFlagState, percentState, type FlagState } from './flag-state';

/** The schema (and, as `ficus_flags`, the role) that holds a deployment's flags. */
export const FLAGS_SCHEMA = 'flags';
/** NOTIFY channel: a committed change wakes every process that watches this database. */
export const FLAGS_CHANNEL = 'ficus_flags';

const POOL_SIZE = 2;

/** A flag someone set, as stored. */
export interface StoredFlag {
  readonly name: string;
  readonly state: FlagState;
  /** The change that set it: grows with every change, so a reader can tell new from seen. */
  readonly changeId: number;
  readonly updatedAt: Date;
  readonly updatedBy: string;
}

/** One line of the append-only change log. */
export interface FlagChange {
  readonly id: number;
  readonly name: string;
  /** Absent when the flag had never been set (it said its declared default). */
  readonly from?: FlagState;
  readonly to: FlagState;
  readonly by: string;
  readonly reason?: string;
  readonly at: Date;
}

export interface StoredDeclaration {
  readonly name: string;
  readonly default: FlagState;
  readonly description: string;
  readonly declaredBy: string;
  readonly declaredAt: Date;
}

interface StateRow {
  name: string;
  state: 'on' | 'off' | 'percent';
  percent: number | null;
  change_id: string;
  updated_at: Date;
  updated_by: string;
}

interface ChangeRow {
  id: string;
  name: string;
  from_state: string | null;
  to_state: string;
  changed_by: string;
  reason: string | null;
  changed_at: Date;
}

/**
 * A deployment's flags in PostgreSQL (ADR 0028). Changes are serialised per flag by an advisory
 * lock, written together with their change-log row, and announced with pg_notify in the same
 * transaction, which PostgreSQL delivers only at commit: a watcher woken by it always reads the
 * committed change.
 */
export class PostgresFlagStore {
  constructor(
    readonly dataSource: DataSource,
    /** The URL of the store's own role, for a LISTEN connection. */
    readonly connectionUrl: string,
  ) {}

  /**
   * Opens the store of a deployment: schema `flags` with its own role in the deployment's
   * database (`DATABASE_URL_FLAGS` puts it elsewhere), created and migrated when missing.
   */
  static async open(database: DatabaseConfig): Promise<PostgresFlagStore> {
    const url = await provisionContext(database, FLAGS_SCHEMA);
    const dataSource = await openModuleDataSource({
      context: FLAGS_SCHEMA,
      url,
      entities: [],
      migrations: [FlagTables1764000002800],
      poolSize: Math.min(POOL_SIZE, database.poolSize),
    });
    return new PostgresFlagStore(dataSource, url);
  }

  async states(): Promise<StoredFlag[]> {
    const rows = (await this.dataSource.query(
      'SELECT name, state, percent, change_id, updated_at, updated_by FROM flag_states ORDER BY name',
    )) as StateRow[];
    return rows.map((row) => ({
      name: row.name,
      state: stateOf(row),
      changeId: Number(row.change_id),
      updatedAt: row.updated_at,
      updatedBy: row.updated_by,
    }));
  }

  /**
   * Sets a flag and logs the change, in one transaction; every watcher hears of it at commit.
   * `check`, when given, sees what the flag says now (undefined: never set) under the flag's lock,
   * and may throw to change nothing: a compare-and-set for callers that showed someone a state.
   * It runs synchronously, inside the transaction; it must not start work of its own.
   */
  async set(
    name: string,
    state: FlagState,
    by: string,
    reason?: string,
    check?: (now: FlagState | undefined) => void,
  ): Promise<FlagChange> {
    checkFlagName(name);
    if (!by.trim()) throw new Error('a flag change needs to say who made it');
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${FLAGS_CHANNEL}:${name}`]);
      const [current] = (await manager.query(
        'SELECT name, state, percent, change_id, updated_at, updated_by FROM flag_states WHERE name = $1',
        [name],
      )) as StateRow[];
      const from = current ? stateOf(current) : undefined;
      check?.(from);
      const [change] = (await manager.query(
        `INSERT INTO flag_changes (name, from_state, to_state, changed_by, reason)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING id, name, from_state, to_state, changed_by, reason, changed_at`,
        [name, from ? formatFlagState(from) : null, formatFlagState(state), by, reason ?? null],
      )) as ChangeRow[];
      await manager.query(
        `INSERT INTO flag_states (name, state, percent, change_id, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (name) DO UPDATE
           SET state = EXCLUDED.state, percent = EXCLUDED.percent, change_id = EXCLUDED.change_id,
               updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
        [name, state.kind, state.kind === 'percent' ? state.percent : null, change.id, change.changed_at, by],
      );
      await manager.query('SELECT pg_notify($1, $2)', [FLAGS_CHANNEL, name]);
      return changeOf(change);
    });
  }

  /** The changes of one flag, newest first. */
  async history(name: string, limit = 50): Promise<FlagChange[]> {
    const rows = (await this.dataSource.query(
      `SELECT id, name, from_state, to_state, changed_by, reason, changed_at
         FROM flag_changes WHERE name = $1 ORDER BY id DESC LIMIT $2`,
      [name, limit],
    )) as ChangeRow[];
    return rows.map(changeOf);
  }

  /** Records what a process's code declares, so that tools can list flags nobody has set yet. */
  async declare(definitions: readonly FlagDefinition[], by: string): Promise<void> {
    if (definitions.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO flag_declarations (name, default_state, description, declared_by, declared_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
       ON CONFLICT (name) DO UPDATE
         SET default_state = EXCLUDED.default_state, description = EXCLUDED.description,
             declared_by = EXCLUDED.declared_by, declared_at = EXCLUDED.declared_at`,
      [
        definitions.map((d) => d.name),
        definitions.map((d) => formatFlagState(d.default)),
        definitions.map((d) => d.description),
        definitions.map(() => by),
        definitions.map(() => new Date()),
      ],
    );
  }

  async declarations(): Promise<StoredDeclaration[]> {
    const rows = (await this.dataSource.query(
      'SELECT name, default_state, description, declared_by, declared_at FROM flag_declarations ORDER BY name',
    )) as Array<{ name: string; default_state: string; description: string; declared_by: string; declared_at: Date }>;
    return rows.map((row) => ({
      name: row.name,
      default: parseFlagState(row.default_state),
      description: row.description,
      declaredBy: row.declared_by,
      declaredAt: row.declared_at,
    }));
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

function stateOf(row: Pick<StateRow, 'state' | 'percent'>): FlagState {
  if (row.state === 'percent') return percentState(Number(row.percent));
  return row.state === 'on' ? parseFlagState('on') : FLAG_OFF;
}

function changeOf(row: ChangeRow): FlagChange {
  return {
    id: Number(row.id),
    name: row.name,
    ...(row.from_state === null ? {} : { from: parseFlagState(row.from_state) }),
    to: parseFlagState(row.to_state),
    by: row.changed_by,
    ...(row.reason === null ? {} : { reason: row.reason }),
    at: row.changed_at,
  };
}
