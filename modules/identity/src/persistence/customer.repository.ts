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
}
