import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An order that failed before its stock was reserved (order-failed handled before order-created,
 * after a redelivery or a dead-letter replay) is remembered as CANCELLED, so that it never
 * reserves stock that nothing would give back.
 */
export class CancelledReservations1764000000201 implements MigrationInterface {
  name = 'CancelledReservations1764000000201';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE reservations DROP CONSTRAINT reservations_status_check');
    await runner.query(
      "ALTER TABLE reservations ADD CONSTRAINT reservations_status_check CHECK (status IN ('RESERVED', 'REJECTED', 'RELEASED', 'COMMITTED', 'CANCELLED'))",
    );
    await runner.query('ALTER TABLE reservations ADD COLUMN cancelled_at timestamptz');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query("DELETE FROM reservations WHERE status = 'CANCELLED'");
    await runner.query('ALTER TABLE reservations DROP COLUMN cancelled_at');
    await runner.query('ALTER TABLE reservations DROP CONSTRAINT reservations_status_check');
    await runner.query(
      "ALTER TABLE reservations ADD CONSTRAINT reservations_status_check CHECK (status IN ('RESERVED', 'REJECTED', 'RELEASED', 'COMMITTED'))",
    );
  }
}
