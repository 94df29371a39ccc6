import { Client } from 'pg';

/** What one side asked of PostgreSQL per order, from pg_stat_statements. */
export interface StatementFootprint {
  readonly orders: number;
  /** Statements other than BEGIN and COMMIT. */
  readonly statements: number;
  /** Transactions opened with BEGIN (a single statement outside one commits by itself). */
  readonly transactions: number;
  /** Rows that INSERT and UPDATE statements wrote (an upsert's row counts once). */
  readonly rowsWritten: number;
  /** The server's execution time, waiting for row locks included. */
  readonly serverMs: number;
  /** The statements that took most of that time, longest first. */
  readonly longest: ReadonlyArray<{ readonly statement: string; readonly calls: number; readonly serverMs: number }>;
}

/**
 * Counts, with pg_stat_statements, what each side of a benchmark asks of PostgreSQL: the server
 * must have been started with it loaded (`statementStatistics`). Counting is off (`track = none`)
 * but while `count` runs, so the timed rounds pay nothing for it. Statements are told apart by
 * database and by role: the benchmark's own polling, as superuser, can be left out.
 */
export class StatementCounts {
  private constructor(
    private readonly admin: Client,
    private readonly adminUrl: string,
  ) {}

  /** `adminUrl`: the superuser's URL of the `postgres` database. */
  static async open(adminUrl: string): Promise<StatementCounts> {
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      const counts = new StatementCounts(admin, adminUrl);
      await counts.track('none');
      return counts;
    } catch (error) {
      await admin.end();
      throw error;
    }
  }

  /**
   * Runs `work`, which ends `orders` orders, counting the statements run in `database` (by roles
   * other than the superuser, unless `superuser` says they are the side's own).
   */
  async count(
    database: string,
    orders: number,
    work: () => Promise<unknown>,
    options: { superuser?: boolean } = {},
  ): Promise<StatementFootprint> {
    await this.track('top');
    try {
      await this.admin.query('SELECT pg_stat_statements_reset()');
      await work();
    } finally {
      await this.track('none');
    }
    const { rows } = await this.admin.query<{ query: string; calls: string; ms: number; rows: string }>(
      `SELECT s.query, s.calls, s.total_exec_time AS ms, s.rows
         FROM pg_stat_statements s
         JOIN pg_database d ON d.oid = s.dbid
         JOIN pg_roles r ON r.oid = s.userid
        WHERE d.datname = $1 AND ($2 OR NOT r.rolsuper)`,
      [database, options.superuser === true],
    );
    const perOrder = (value: number) => Math.round((value / orders) * 100) / 100;
    const callsOf = (pattern: RegExp) =>
      rows.filter((row) => pattern.test(row.query.trim())).reduce((sum, row) => sum + Number(row.calls), 0);
    const all = rows.reduce((sum, row) => sum + Number(row.calls), 0);
    const written = rows
      .filter((row) => /^(INSERT|UPDATE)\b/i.test(row.query.trim()))
      .reduce((sum, row) => sum + Number(row.rows), 0);
    const serverMs = rows.reduce((sum, row) => sum + row.ms, 0);
    return {
      orders,
      statements: perOrder(all - callsOf(/^(BEGIN|COMMIT)$/i)),
      transactions: perOrder(callsOf(/^BEGIN$/i)),
      rowsWritten: perOrder(written),
      serverMs: perOrder(serverMs),
      longest: [...rows]
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 3)
        .map((row) => ({
          statement: row.query.replace(/\s+/g, ' ').trim(),
          calls: perOrder(Number(row.calls)),
          serverMs: perOrder(row.ms),
        })),
    };
  }

  async close(): Promise<void> {
    await this.admin.end();
  }

  /**
   * Sets what pg_stat_statements tracks, for every session. A backend takes a reloaded setting
   * before its next command; the postmaster signals every backend before it starts a new one, so
   * once a new session sees the setting, every statement from then on is under it.
   */
  private async track(what: 'top' | 'none'): Promise<void> {
    await this.admin.query(`ALTER SYSTEM SET pg_stat_statements.track = '${what}'`);
    await this.admin.query('SELECT pg_reload_conf()');
    let seen = '';
    for (let attempt = 0; ; attempt++) {
      const probe = new Client({ connectionString: this.adminUrl });
      await probe.connect();
      try {
        const { rows } = await probe.query<{ track: string }>(
          "SELECT current_setting('pg_stat_statements.track') AS track",
        );
        seen = rows[0].track;
        if (seen === what) return;
      } finally {
        await probe.end();
      }
      if (attempt === 100) throw new Error(`pg_stat_statements.track did not become '${what}' (${seen})`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
