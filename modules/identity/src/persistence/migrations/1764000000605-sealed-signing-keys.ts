import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Private signing keys sealed with a key-encryption key (infra/security/key-encryption.ts): a
 * column for the sealed value, and the plain one no longer required. Identity seals the keys it
 * finds in plain text when it next loads them and clears the plain column (it cannot be done here:
 * the key-encryption key is in the process's environment, not in SQL), and a retired key keeps no
 * private half at all.
 */
export class SealedSigningKeys1764000000605 implements MigrationInterface {
  name = 'SealedSigningKeys1764000000605';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE signing_keys ADD COLUMN private_jwk_sealed text');
    await runner.query('ALTER TABLE signing_keys ALTER COLUMN private_jwk DROP NOT NULL');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE signing_keys DROP COLUMN private_jwk_sealed');
  }
}
