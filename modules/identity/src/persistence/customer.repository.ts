import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';
import type { Role } from '../domain/credentials';

export interface CustomerAccount {
  readonly customerId: string;
  readonly email: string;
  readonly passwordHash: string;
  readonly roles: Role[];
}

@Injectable()
export class CustomerRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** False when the email is taken. */
  async insert(account: CustomerAccount): Promise<boolean> {
    const inserted = (await this.uow.manager.query(
      `INSERT INTO customers (customer_id, email, password_hash, roles) VALUES ($1, $2, $3, $4)
       ON CONFLICT (email) DO NOTHING RETURNING customer_id`,
      [account.customerId, account.email, account.passwordHash, account.roles],
    )) as unknown[];
    return inserted.length === 1;
  }

  async byEmail(email: string): Promise<CustomerAccount | undefined> {
    const [row] = (await this.uow.manager.query(
      'SELECT customer_id, email, password_hash, roles FROM customers WHERE email = $1',
      [email],
    )) as Array<{ customer_id: string; email: string; password_hash: string; roles: Role[] }>;
    return row
      ? { customerId: row.customer_id, email: row.email, passwordHash: row.password_hash, roles: row.roles }
      : undefined;
  }

  async byId(customerId: string): Promise<CustomerAccount | undefined> {
    const [row] = (await this.uow.manager.query(
      'SELECT customer_id, email, password_hash, roles FROM customers WHERE customer_id = $1',
      [customerId],
    )) as Array<{ customer_id: string; email: string; password_hash: string; roles: Role[] }>;
    return row
      ? { customerId: row.customer_id, email: row.email, passwordHash: row.password_hash, roles: row.roles }
      : undefined;
  }

  /** The account with this email, its row locked until the transaction ends. */
  async lockByEmail(email: string): Promise<CustomerAccount | undefined> {
    const [row] = (await this.uow.manager.query(
      'SELECT customer_id, email, password_hash, roles FROM customers WHERE email = $1 FOR UPDATE',
      [email],
    )) as Array<{ customer_id: string; email: string; password_hash: string; roles: Role[] }>;
    return row
      ? { customerId: row.customer_id, email: row.email, passwordHash: row.password_hash, roles: row.roles }
      : undefined;
  }

  /** Accounts holding `role`, oldest first. With `lock`, their rows stay locked until the transaction ends. */
  async withRole(role: Role, options: { lock?: boolean } = {}): Promise<Array<{ customerId: string; email: string }>> {
    const rows = (await this.uow.manager.query(
      `SELECT customer_id, email FROM customers WHERE $1 = ANY (roles) ORDER BY created_at, customer_id${options.lock ? ' FOR UPDATE' : ''}`,
      [role],
    )) as Array<{ customer_id: string; email: string }>;
    return rows.map((row) => ({ customerId: row.customer_id, email: row.email }));
  }

  /** Sets the account's roles and records who changed which one. */
  async changeRoles(customerId: string, roles: Role[], change: { role: Role; change: 'granted' | 'revoked'; actor: string }): Promise<void> {
    await this.uow.manager.query('UPDATE customers SET roles = $2 WHERE customer_id = $1', [customerId, roles]);
    await this.uow.manager.query('INSERT INTO role_changes (customer_id, role, change, actor) VALUES ($1, $2, $3, $4)', [
      customerId,
      change.role,
      change.change,
      change.actor,
    ]);
  }
}
