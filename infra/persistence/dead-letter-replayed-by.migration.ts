import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who replayed a dead letter (the admin's subject from their verified token), beside when: every
 * context's dead_letters, after its messaging tables (ADR 0048). Nullable: letters replayed
 * before it, and code that does not know it, leave it empty.
 */
export class DeadLetterReplayedBy1764000000001 implements MigrationInterface {
  name = 'DeadLetterReplayedBy1764000000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE dead_letters ADD COLUMN replayed_by text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE dead_letters DROP COLUMN replayed_by');
  }
}
