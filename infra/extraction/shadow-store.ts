import type { DataSource } from 'typeorm';
import {
  ExtractionTables1764000003000,
  ShadowInconclusive1764000003001,
} from '@infra/persistence/extraction-tables.migration';
import { openModuleDataSource, provisionContext, type DatabaseConfig } from '@infra/persistence';

export const EXTRACTION_SCHEMA = 'extraction';

/** A difference between the in-process answer and the extracted service's, kept for the report. */
export interface ShadowMismatch {
  readonly context: string;
  /** `<contract>/<method>` */
  readonly call: string;
  readonly request: unknown;
  readonly inProcess: unknown;
  readonly extracted: unknown;
  readonly at?: Date;
}

export interface ShadowCounts {
  readonly matches: number;
  readonly mismatches: number;
  readonly errors: number;
  /** Answers that differed while the data changed under them: neither a match nor a mismatch. */
  readonly inconclusive: number;
}

export interface ShadowTally extends ShadowCounts {
  /** The first and last minute with a comparison in the window. */
  readonly since?: Date;
  readonly until?: Date;
}

/** The shadow results of a deployment, in its database's `extraction` schema (own role). */
export class ShadowStore {
  private constructor(readonly dataSource: DataSource) {}

  static async open(database: DatabaseConfig): Promise<ShadowStore> {
    const url = await provisionContext(database, EXTRACTION_SCHEMA);
    const dataSource = await openModuleDataSource({
      context: EXTRACTION_SCHEMA,
      url,
      entities: [],
      migrations: [ExtractionTables1764000003000, ShadowInconclusive1764000003001],
      poolSize: Math.min(2, database.poolSize),
    });
    return new ShadowStore(dataSource);
  }

  async close(): Promise<void> {
    await this.dataSource.destroy();
  }

  /** Adds counts to a minute's tally (one upsert per context and minute). */
  async add(context: string, minute: Date, counts: ShadowCounts): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO shadow_tallies (context, minute, matches, mismatches, errors, inconclusive)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (context, minute) DO UPDATE SET matches = shadow_tallies.matches + EXCLUDED.matches,
         mismatches = shadow_tallies.mismatches + EXCLUDED.mismatches, errors = shadow_tallies.errors + EXCLUDED.errors,
         inconclusive = shadow_tallies.inconclusive + EXCLUDED.inconclusive`,
      [context, minute, counts.matches, counts.mismatches, counts.errors, counts.inconclusive],
    );
  }

  async recordMismatch(mismatch: ShadowMismatch): Promise<void> {
    await this.dataSource.query(
      'INSERT INTO shadow_mismatches (context, call, request, in_process, extracted) VALUES ($1, $2, $3, $4, $5)',
      [
        mismatch.context,
        mismatch.call,
        JSON.stringify(mismatch.request ?? null),
        JSON.stringify(mismatch.inProcess ?? null),
        JSON.stringify(mismatch.extracted ?? null),
      ],
    );
  }

  /** The tally of a context since a moment (all of it when absent). */
  async tally(context: string, since?: Date): Promise<ShadowTally> {
    const [row] = (await this.dataSource.query(
      `SELECT coalesce(sum(matches), 0)::int AS matches, coalesce(sum(mismatches), 0)::int AS mismatches,
              coalesce(sum(errors), 0)::int AS errors, coalesce(sum(inconclusive), 0)::int AS inconclusive,
              min(minute) AS since, max(minute) AS until
         FROM shadow_tallies WHERE context = $1 AND ($2::timestamptz IS NULL OR minute >= $2)`,
      [context, since ?? null],
    )) as Array<ShadowCounts & { since: Date | null; until: Date | null }>;
    return {
      matches: row.matches,
      mismatches: row.mismatches,
      errors: row.errors,
      inconclusive: row.inconclusive,
      since: row.since ?? undefined,
      until: row.until ?? undefined,
    };
  }

  async mismatches(context: string, limit = 20): Promise<ShadowMismatch[]> {
    const rows = (await this.dataSource.query(
      'SELECT context, call, request, in_process, extracted, at FROM shadow_mismatches WHERE context = $1 ' +
        'ORDER BY id DESC LIMIT $2',
      [context, limit],
    )) as Array<{ context: string; call: string; request: unknown; in_process: unknown; extracted: unknown; at: Date }>;
    return rows.map((row) => ({
      context: row.context,
      call: row.call,
      request: row.request,
      inProcess: row.in_process,
      extracted: row.extracted,
      at: row.at,
    }));
  }
}
