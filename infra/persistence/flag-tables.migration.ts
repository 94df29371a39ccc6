import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The feature flags of one deployment (infra/flags, ADR 0028), in a schema `flags` of the
 * deployment's database with a role of its own, like a context's:
 * - `flag_states`: what each flag says now (a row only once someone set it; unset flags say
 *   their declared default);
 * - `flag_changes`: every change, who made it and when, from what to what. Append-only: a
 *   trigger refuses UPDATE, DELETE and TRUNCATE, so the log cannot be edited after the fact
 *   through the role that writes it;
 * - `flag_declarations`: the flags the code of the processes using this store declares, with
 *   default and description, written at start-up, so that `ficus flags list` knows them.
 */
export class FlagTables1764000002800 implements MigrationInterface {
  name = 'FlagTables1764000002800';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE flag_states (
        name text PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('on', 'off', 'percent')),
        percent smallint CHECK (percent BETWEEN 0 AND 100),
        change_id bigint NOT NULL,
        updated_at timestamptz NOT NULL,
        updated_by text NOT NULL,
        CHECK ((state = 'percent') = (percent IS NOT NULL))
      )`);
    await runner.query(`
      CREATE TABLE flag_changes (
        id bigserial PRIMARY KEY,
        name text NOT NULL,
        from_state text,
        to_state text NOT NULL,
        changed_by text NOT NULL,
        reason text,
        changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await runner.query('CREATE INDEX flag_changes_by_name ON flag_changes (name, id)');
    await runner.query(`
      CREATE FUNCTION flag_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
      BEGIN
        RAISE EXCEPTION 'flag_changes is append-only: % refused', TG_OP;
      END
      $body$`);
    await runner.query(`
      CREATE TRIGGER flag_changes_no_update_or_delete BEFORE UPDATE OR DELETE ON flag_changes
        FOR EACH ROW EXECUTE FUNCTION flag_changes_append_only()`);
    await runner.query(`
      CREATE TRIGGER flag_changes_no_truncate BEFORE TRUNCATE ON flag_changes
        FOR EACH STATEMENT EXECUTE FUNCTION flag_changes_append_only()`);
    await runner.query(`
      CREATE TABLE flag_declarations (
        name text PRIMARY KEY,
        default_state text NOT NULL,
        description text NOT NULL,
        declared_by text NOT NULL,
        declared_at timestamptz NOT NULL
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE flag_declarations');
    await runner.query('DROP TABLE flag_changes');
    await runner.query('DROP FUNCTION flag_changes_append_only()');
    await runner.query('DROP TABLE flag_states');
  }
}
