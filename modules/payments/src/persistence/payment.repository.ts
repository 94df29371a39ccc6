import { Injectable } from '@nestjs/common';
import type { Envelope, EventOrigin, Money } from '@contracts/kernel';
import { Outbox } from '@infra/messaging';
import { UnitOfWork } from '@infra/persistence';
import type { Payment, ProviderRetryKind } from '../domain/payment';

interface PaymentRow {
  order_id: string;
  customer_id: string | null;
  amount_minor: number | null;
  currency: string | null;
  payment_method_id: string | null;
  token: string | null;
  stock_reserved: boolean;
  status: Payment['status'];
  provider_reference: string | null;
  failure_reason: string | null;
  order_failed: boolean;
  refund_reference: string | null;
  refunded_at: Date | null;
  updated_at: Date;
  provider_retry: ProviderRetryKind | null;
}

/** A provider call due again: which one, and what its events say they come from. */
export interface DueProviderCall {
  readonly orderId: string;
  readonly kind: ProviderRetryKind;
  readonly origin: EventOrigin;
  /** The order's failure, for a refund. */
  readonly reason: string;
  /** Attempts so far. */
  readonly attempts: number;
}

/** The first retry after a second, then twice as long each time, up to a minute. */
const RETRY_FIRST_MS = 1_000;
const RETRY_LONGEST_MS = 60_000;

@Injectable()
export class PaymentRepository {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly outbox: Outbox,
  ) {}

  /**
   * Records whose order it is, what it costs and the payment method it pays with (once); the row
   * may exist from stock-reserved.
   */
  async learnPrice(orderId: string, customerId: string, amount: Money, paymentMethodId: string): Promise<void> {
    await this.uow.defer(
      `INSERT INTO payments (order_id, customer_id, amount_minor, currency, payment_method_id, status)
       VALUES ($1, $2, $3, $4, $5, 'PENDING')
       ON CONFLICT (order_id) DO UPDATE
         SET customer_id = EXCLUDED.customer_id, amount_minor = EXCLUDED.amount_minor, currency = EXCLUDED.currency,
             payment_method_id = EXCLUDED.payment_method_id, updated_at = now()
         WHERE payments.amount_minor IS NULL`,
      [orderId, customerId, amount.amountMinor, amount.currency, paymentMethodId],
    );
  }

  /** Records that the order's stock is reserved; the row may exist from order-created. */
  async learnStockReserved(orderId: string): Promise<void> {
    await this.uow.defer(
      `INSERT INTO payments (order_id, status, stock_reserved) VALUES ($1, 'PENDING', true)
       ON CONFLICT (order_id) DO UPDATE SET stock_reserved = true, updated_at = now()`,
      [orderId],
    );
  }

  /**
   * Records that the order failed; the row may exist from either of the other facts, or not yet.
   * A token an earlier release kept in plain text goes: a failed order is never charged.
   */
  async learnOrderFailed(orderId: string): Promise<void> {
    await this.uow.defer(
      `INSERT INTO payments (order_id, status, order_failed) VALUES ($1, 'PENDING', true)
       ON CONFLICT (order_id) DO UPDATE SET order_failed = true, token = NULL, updated_at = now()
         WHERE NOT payments.order_failed`,
      [orderId],
    );
  }

  async find(
    orderId: string,
    options: { lock?: boolean } = {},
  ): Promise<(Payment & { updatedAt: string }) | undefined> {
    const [row] = (await this.uow.manager.query(
      `SELECT * FROM payments WHERE order_id = $1 ${options.lock ? 'FOR UPDATE' : ''}`,
      [orderId],
    )) as PaymentRow[];
    return row && paymentOf(row);
  }

  /** The payments of these orders that payments knows of, in one statement (in no particular order). */
  async findAll(orderIds: readonly string[]): Promise<(Payment & { updatedAt: string })[]> {
    const rows = (await this.uow.manager.query('SELECT * FROM payments WHERE order_id = ANY($1)', [
      orderIds,
    ])) as PaymentRow[];
    return rows.map(paymentOf);
  }

  /**
   * Saves a settled (or refunded) payment and the event that tells it, in the caller's transaction:
   * the event is published if and only if the payment's new state commits. A token an earlier
   * release kept in plain text goes, as nothing charges it again.
   */
  async record(payment: Payment, event: Envelope): Promise<void> {
    await this.uow.defer(
      `UPDATE payments SET status = $2, provider_reference = $3, failure_reason = $4, refund_reference = $5,
       refunded_at = $6,
              token = NULL, updated_at = now(), provider_retry = NULL, provider_retry_due_at = NULL,
              provider_retry_attempts = 0, provider_retry_origin = NULL, provider_retry_reason = NULL,
              provider_retry_last_error = NULL
        WHERE order_id = $1`,
      [
        payment.orderId,
        payment.status,
        payment.providerReference ?? null,
        payment.failureReason ?? null,
        payment.refundReference ?? null,
        payment.refundedAt ?? null,
      ],
    );
    await this.outbox.add(event);
  }

  /**
   * The provider could not take the payment's charge or refund now: it is due again later, each
   * time twice as late as the one before (ProviderRetries makes it), counted from now, not from
   * the start of a transaction that waited for the provider. The event that needed it is handled
   * meanwhile, so no event after it waits for the provider. A refund that takes a charge's place
   * starts its count afresh.
   */
  async retryLater(
    orderId: string,
    call: { kind: ProviderRetryKind; origin: EventOrigin; reason?: string; error: string },
  ): Promise<void> {
    await this.uow.defer(
      `UPDATE payments SET provider_retry = $2,
         provider_retry_attempts = CASE WHEN provider_retry IS DISTINCT FROM $2 THEN 1
                                        ELSE provider_retry_attempts + 1 END,
         provider_retry_due_at = clock_timestamp() + least(
           $5::double precision * 2 ^ least(CASE WHEN provider_retry IS DISTINCT FROM $2 THEN 0
                                                 ELSE provider_retry_attempts END, 16),
           $6) * interval '1 millisecond',
         provider_retry_origin = $3, provider_retry_reason = $4, provider_retry_last_error = $7, updated_at = now()
       WHERE order_id = $1`,
      [
        orderId,
        call.kind,
        JSON.stringify(call.origin),
        call.reason ?? '',
        RETRY_FIRST_MS,
        RETRY_LONGEST_MS,
        call.error.slice(0, 500),
      ],
    );
  }

  /** Nothing is due of the payment any more (its order failed before the charge went through). */
  async endRetry(orderId: string): Promise<void> {
    await this.uow.defer(
      `UPDATE payments SET provider_retry = NULL, provider_retry_due_at = NULL, provider_retry_attempts = 0,
         provider_retry_origin = NULL, provider_retry_reason = NULL, provider_retry_last_error = NULL
       WHERE order_id = $1`,
      [orderId],
    );
  }

  /**
   * Takes up to `limit` provider calls that are due, each for `leaseMs` (another process, or the
   * next sweep, leaves it alone meanwhile; one whose taker stopped is due again once its lease
   * ends), in one statement committed at once.
   */
  async takeDue(limit: number, leaseMs: number): Promise<DueProviderCall[]> {
    const [rows] = (await this.uow.manager.query(
      `UPDATE payments SET provider_retry_due_at = clock_timestamp() + $2::double precision * interval '1 millisecond'
        WHERE order_id IN (
          SELECT order_id FROM payments WHERE provider_retry IS NOT NULL AND provider_retry_due_at <= now()
           ORDER BY provider_retry_due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING order_id, provider_retry, provider_retry_origin, provider_retry_reason, provider_retry_attempts`,
      [limit, leaseMs],
    )) as [
      Array<{
        order_id: string;
        provider_retry: ProviderRetryKind;
        provider_retry_origin: EventOrigin;
        provider_retry_reason: string | null;
        provider_retry_attempts: number;
      }>,
      number,
    ];
    return rows.map((row) => ({
      orderId: row.order_id,
      kind: row.provider_retry,
      origin: row.provider_retry_origin,
      reason: row.provider_retry_reason ?? '',
      attempts: row.provider_retry_attempts,
    }));
  }
}

function paymentOf(row: PaymentRow): Payment & { updatedAt: string } {
  return {
    orderId: row.order_id,
    customerId: row.customer_id ?? undefined,
    amount:
      row.amount_minor === null || row.currency === null
        ? undefined
        : { amountMinor: row.amount_minor, currency: row.currency },
    paymentMethodId: row.payment_method_id ?? undefined,
    token: row.token ?? undefined,
    stockReserved: row.stock_reserved,
    status: row.status,
    providerReference: row.provider_reference ?? undefined,
    failureReason: row.failure_reason ?? undefined,
    orderFailed: row.order_failed,
    refundReference: row.refund_reference ?? undefined,
    refundedAt: row.refunded_at?.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ...(row.provider_retry ? { providerRetry: row.provider_retry } : {}),
  };
}
