import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateNotifications1764000000700 implements MigrationInterface {
  name = 'CreateNotifications1764000000700';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE recipients (
        customer_id uuid PRIMARY KEY,
        email text NOT NULL
      )`);
    await runner.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY,
        recipient_id text NOT NULL,
        channel text NOT NULL,
        address text NOT NULL,
        subject text NOT NULL,
        body text NOT NULL,
        order_id uuid,
        kind text NOT NULL,
        sent_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (order_id, kind)
      )`);
    await runner.query('CREATE INDEX notifications_by_recipient ON notifications (recipient_id, sent_at DESC)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE notifications');
    await runner.query('DROP TABLE recipients');
  }
}
