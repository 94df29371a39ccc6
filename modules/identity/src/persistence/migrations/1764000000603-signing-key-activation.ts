import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a signing key starts signing. A key replaced on schedule is published in the JWKS first and
 * signs only once every edge's cached copy of the JWKS has had time to pick it up.
 */
export class SigningKeyActivation1764000000603 implements MigrationInterface {
  name = 'SigningKeyActivation1764000000603';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE signing_keys ADD COLUMN active_from timestamptz');
    await runner.query('UPDATE signing_keys SET active_from = created_at');
    await runner.query('ALTER TABLE signing_keys ALTER COLUMN active_from SET NOT NULL, ALTER COLUMN active_from SET DEFAULT now()');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE signing_keys DROP COLUMN active_from');
  }
}
