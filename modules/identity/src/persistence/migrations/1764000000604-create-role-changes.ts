import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Who gave or took the admin role of which account, and when: the audit of `ficus admins` and admins' changes. */
export class CreateRoleChanges1764000000604 implements MigrationInterface {
  name = 'CreateRoleChanges1764000000604';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE role_changes (
        id bigserial PRIMARY KEY,
        customer_id uuid NOT NULL REFERENCES customers (customer_id),
        role text NOT NULL,
        change text NOT NULL CHECK (change IN ('granted', 'revoked')),
        actor text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX role_changes_customer ON role_changes (customer_id, changed_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE role_changes');
  }
}
