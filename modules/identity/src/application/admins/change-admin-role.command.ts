import { Command } from '@nestjs/cqrs';

export interface AdminRoleChange {
  readonly customerId: string;
  readonly email: string;
  readonly roles: string[];
  /** False when the account already was (granting) or was not (revoking) an admin. */
  readonly changed: boolean;
}

/**
 * Gives (`grant`) or takes (`revoke`) the admin role of the account with `email`; `actor` is who
 * asked, for the audit.
 */
export class ChangeAdminRoleCommand extends Command<AdminRoleChange> {
  constructor(
    readonly email: string,
    readonly change: 'grant' | 'revoke',
    readonly actor: string,
  ) {
    super();
  }
}
