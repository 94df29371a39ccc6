import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Login attempts per account and address, and per address, in fixed windows. In PostgreSQL, not
 * in memory, so every identity replica (and every gateway in front of them) enforces one limit.
 * Keys are hashes: the table holds neither emails nor addresses.
 */
export class CreateLoginThrottle1764000000601 implements MigrationInterface {
  name = 'CreateLoginThrottle1764000000601';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE login_throttle (
        key text PRIMARY KEY,
        attempts integer NOT NULL,
        window_started_at timestamptz NOT NULL
      )`);
    await runner.query('CREATE INDEX login_throttle_window ON login_throttle (window_started_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE login_throttle');
  }
}
