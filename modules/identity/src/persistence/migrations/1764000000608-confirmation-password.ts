import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A confirmation link carries the password chosen with the registration that mailed it, and
 * following it sets that password: an address registered first by someone else (who cannot read
 * its mailbox) does not keep their password once its owner registers and confirms. Links mailed
 * before this change have none and leave the account's password as it is.
 */
export class ConfirmationPassword1764000000608 implements MigrationInterface {
  name = 'ConfirmationPassword1764000000608';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE email_confirmations ADD COLUMN password_hash text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE email_confirmations DROP COLUMN password_hash');
  }
}
