import { Client } from 'pg';
import { type DatabaseConfig, databaseOf, roleName, rolePassword, withDatabase } from './database-config';

const PROVISIONING_LOCK = 0x6669_6375; // "ficu": one provisioner at a time across processes

const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

function ident(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new Error(`"${name}" is not a safe PostgreSQL identifier (lower-case letters, digits, _)`);
  }
  return `"${name}"`;
}

/**
 * Makes sure the database exists and that a context has its role and schema: the role owns the
 * schema, and nobody may create anything in `public`. A context's role therefore cannot read
 * another context's tables: PostgreSQL itself answers "permission denied for schema ...".
 * Returns the URL the context connects with.
 */
/**
 * Creates the role, or sets its password when it exists. Roles belong to the whole server while
 * the advisory lock above holds only within one database, so processes provisioning other
 * databases of the same server (tests, split services) may race on the same role: a role created
 * meanwhile, or updated at the same moment, is simply tried again.
 */
async function ensureRole(admin: Client, role: string, password: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const exists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      const verb = exists.rowCount ? 'ALTER' : 'CREATE';
      // Passwords cannot be bound parameters in DDL; this one is base64url, so it quotes safely.
      await admin.query(`${verb} ROLE ${ident(role)} LOGIN PASSWORD '${password}'`);
      return;
    } catch (error) {
      const e = error as { code?: string; message?: string };
      // 42710: created meanwhile; 23505: created at the same moment (both passed the check above).
      const raced = e.code === '42710' || e.code === '23505' || /tuple concurrently updated/.test(e.message ?? '');
      if (!raced || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
    }
  }
}

export async function provisionContext(config: DatabaseConfig, context: string): Promise<string> {
  const explicit = config.contextUrls[context];
  if (explicit) {
    return explicit;
  }
  await ensureDatabase(config.adminUrl, config.database);
  const admin = new Client({ connectionString: withDatabase(config.adminUrl, config.database) });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock($1)', [PROVISIONING_LOCK]);
    const role = roleName(context);
    await ensureRole(admin, role, rolePassword(config, context));
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${ident(context)} AUTHORIZATION ${ident(role)}`);
    await admin.query('REVOKE ALL ON SCHEMA public FROM PUBLIC');
  } finally {
    await admin.query('SELECT pg_advisory_unlock($1)', [PROVISIONING_LOCK]).catch(() => undefined);
    await admin.end();
  }
  const url = new URL(withDatabase(config.adminUrl, config.database));
  url.username = roleName(context);
  url.password = rolePassword(config, context);
  return url.toString();
}

export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const admin = new Client({ connectionString: withDatabase(adminUrl, databaseOf(adminUrl)) });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!found.rowCount) {
      await admin.query(`CREATE DATABASE ${ident(database)}`).catch((error: { code?: string }) => {
        // Another process created it between our look and our create.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  const admin = new Client({ connectionString: withDatabase(adminUrl, databaseOf(adminUrl)) });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
