import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What shadowing a context records while it is being extracted (infra/extraction), in a schema
 * `extraction` of the owning deployment's database with a role of its own:
 * - `shadow_tallies`: per context and minute, how many shadowed calls answered the same from the
 *   extracted service as in-process, how many differently, how many failed there (and, from
 *   ShadowInconclusive1764000003001, how many the data explained);
 * - `shadow_mismatches`: each difference with the request and both answers, for the report.
 */
export class ExtractionTables1764000003000 implements MigrationInterface {
  name = 'ExtractionTables1764000003000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE shadow_tallies (
        context text NOT NULL,
        minute timestamptz NOT NULL,
        matches integer NOT NULL DEFAULT 0,
        mismatches integer NOT NULL DEFAULT 0,
        errors integer NOT NULL DEFAULT 0,
        PRIMARY KEY (context, minute)
      )`);
    await runner.query(`
      CREATE TABLE shadow_mismatches (
        id bigserial PRIMARY KEY,
        context text NOT NULL,
        call text NOT NULL,
        request jsonb NOT NULL,
        in_process jsonb NOT NULL,
        extracted jsonb NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX shadow_mismatches_by_context ON shadow_mismatches (context, id DESC)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE shadow_mismatches');
    await runner.query('DROP TABLE shadow_tallies');
  }
}

/**
 * Shadowed reads whose answers differed while the data changed between the two reads: counted
 * apart, neither matches nor mismatches.
 */
export class ShadowInconclusive1764000003001 implements MigrationInterface {
  name = 'ShadowInconclusive1764000003001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE shadow_tallies ADD COLUMN inconclusive integer NOT NULL DEFAULT 0');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE shadow_tallies DROP COLUMN inconclusive');
  }
}
