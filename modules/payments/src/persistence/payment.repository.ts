import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';
import type { Payment } from '../domain/payment';

interface PaymentRow {
  order_id: string;
  amount_minor: number;
  currency: string;
  token: string;
  status: Payment['status'];
  provider_reference: string | null;
  failure_reason: string | null;
  updated_at: Date;
}

@Injectable()
export class PaymentRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async open(payment: Payment): Promise<void> {
    await this.uow.manager.query(
      `INSERT INTO payments (order_id, amount_minor, currency, token, status) VALUES ($1, $2, $3, $4, 'PENDING')
       ON CONFLICT (order_id) DO NOTHING`,
      [payment.orderId, payment.amount.amountMinor, payment.amount.currency, payment.token],
    );
  }

  async find(orderId: string, options: { lock?: boolean } = {}): Promise<(Payment & { updatedAt: string }) | undefined> {
    const [row] = (await this.uow.manager.query(
      `SELECT * FROM payments WHERE order_id = $1 ${options.lock ? 'FOR UPDATE' : ''}`,
      [orderId],
    )) as PaymentRow[];
    if (!row) return undefined;
    return {
      orderId: row.order_id,
      amount: { amountMinor: row.amount_minor, currency: row.currency },
      token: row.token,
      status: row.status,
      providerReference: row.provider_reference ?? undefined,
      failureReason: row.failure_reason ?? undefined,
      updatedAt: row.updated_at.toISOString(),
    };
  }

  async save(payment: Payment): Promise<void> {
    await this.uow.manager.query(
      `UPDATE payments SET status = $2, provider_reference = $3, failure_reason = $4, updated_at = now() WHERE order_id = $1`,
      [payment.orderId, payment.status, payment.providerReference ?? null, payment.failureReason ?? null],
    );
  }
}
