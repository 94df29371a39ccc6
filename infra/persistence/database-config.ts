import { createHmac } from 'node:crypto';

/**
 * Where each bounded context's data lives. By default every context gets a schema of its own in
 * one database, reached as a role of its own that owns that schema and nothing else. A context
 * may instead be given a URL of its own (a separate database or server), which is then used as is.
 */
export interface DatabaseConfig {
  /** A role allowed to create roles, schemas and databases; used only to provision. */
  readonly adminUrl: string;
  /** The database the contexts share when they have no URL of their own. */
  readonly database: string;
  /** Explicit per-context URLs, already provisioned by an operator. */
  readonly contextUrls: Readonly<Record<string, string>>;
  /** Secret from which each context role's password is derived. */
  readonly roleSecret: string;
  /** Connections per context pool. */
  readonly poolSize: number;
}

export function roleName(context: string): string {
  return `ficus_${context}`;
}

export function rolePassword(config: Pick<DatabaseConfig, 'roleSecret'>, context: string): string {
  return createHmac('sha256', config.roleSecret).update(`role:${context}`).digest('base64url');
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}
