import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { provisionContext } from '@infra/persistence';
import { freshDatabase, testAdminUrl } from '../support/test-database';

/**
 * Roles belong to the whole PostgreSQL server, databases do not: processes provisioning the same
 * context in different databases of one server (parallel test files, split services on a shared
 * server) must not trip over each other's CREATE ROLE.
 */
describe('provisioning a context in several databases of one server at once', () => {
  it('gives every database the context, with one role, and no error', async () => {
    const context = `race${randomBytes(3).toString('hex')}`;
    const databases = await Promise.all(Array.from({ length: 6 }, (_, i) => freshDatabase(`race_${i}`)));
    try {
      const urls = await Promise.all(databases.map((database) => provisionContext(database.config, context)));
      expect(urls).toHaveLength(6);
      const admin = new Client({ connectionString: testAdminUrl() });
      await admin.connect();
      try {
        const roles = await admin.query('SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE $1', [
          `%${context}%`,
        ]);
        expect(roles.rows[0].n).toBe(1);
      } finally {
        await admin.end();
      }
    } finally {
      await Promise.all(databases.map((database) => database.drop()));
    }
  });
});
