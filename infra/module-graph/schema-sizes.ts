import { Client } from 'pg';

/**
 * Bytes each context's schema takes (tables, their indexes and TOAST: pg_total_relation_size),
 * for the contexts given. A context with no schema in that database is left out.
 */
export async function schemaSizes(databaseUrl: string, contexts: readonly string[]): Promise<Record<string, number>> {
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ schema: string; bytes: string }>(
      `SELECT n.nspname AS schema, coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes
         FROM pg_namespace n
         LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'm', 'p')
        WHERE n.nspname = ANY($1)
        GROUP BY n.nspname`,
      [contexts],
    );
    return Object.fromEntries(rows.map((row) => [row.schema, Number(row.bytes)]));
  } finally {
    await client.end();
  }
}
