import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { dropDatabase, ensureDatabase, withDatabase, type DatabaseConfig } from '@infra/persistence';

export function testAdminUrl(): string {
  const url = process.env.FICUS_TEST_ADMIN_URL;
  if (!url) {
    throw new Error('FICUS_TEST_ADMIN_URL is not set: run the tests through jest (its globalSetup starts PostgreSQL)');
  }
  return url;
}

/** A fresh database of its own for one test file: every context gets its schema and role in it. */
export async function freshDatabase(label: string): Promise<{ config: DatabaseConfig; drop(): Promise<void> }> {
  const adminUrl = testAdminUrl();
  const database = `ficus_test_${label.replace(/[^a-z0-9]/g, '_')}_${randomBytes(4).toString('hex')}`;
  await ensureDatabase(adminUrl, database);
  return {
    config: {
      adminUrl,
      database,
      contextUrls: {},
      roleSecret: 'ficus-test-role-secret',
      poolSize: 10,
    },
    drop: () => dropDatabase(adminUrl, database),
  };
}

/** Runs SQL as the superuser in a test database (to look behind the API in assertions). */
export async function asAdmin<T>(
  config: Pick<DatabaseConfig, 'adminUrl' | 'database'>,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: withDatabase(config.adminUrl, config.database) });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}
