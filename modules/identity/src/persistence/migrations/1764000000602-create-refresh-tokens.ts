import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh tokens, stored only as SHA-256 hashes: a copy of the table signs no one in. Each login
 * starts a family; each refresh uses one token up and adds the next to its family. The family row
 * is what a refresh and a revocation both lock, so a token cannot be minted into a family that is
 * being revoked at the same moment.
 */
export class CreateRefreshTokens1764000000602 implements MigrationInterface {
  name = 'CreateRefreshTokens1764000000602';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE refresh_token_families (
        family_id uuid PRIMARY KEY,
        customer_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await runner.query(`
      CREATE TABLE refresh_tokens (
        token_hash text PRIMARY KEY,
        family_id uuid NOT NULL REFERENCES refresh_token_families (family_id) ON DELETE CASCADE,
        customer_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        revoked_at timestamptz
      )`);
    await runner.query('CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)');
    await runner.query('CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE refresh_tokens');
    await runner.query('DROP TABLE refresh_token_families');
  }
}
