import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Confirming a registration asks for the password chosen with it; a link counts the passwords
 * tried with it and takes five (whoever holds a link cannot guess on for the day it lives).
 */
export class ConfirmationAttempts1764000000609 implements MigrationInterface {
  name = 'ConfirmationAttempts1764000000609';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE email_confirmations ADD COLUMN password_attempts integer NOT NULL DEFAULT 0');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE email_confirmations DROP COLUMN password_attempts');
  }
}
