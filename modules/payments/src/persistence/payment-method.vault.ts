import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { UnitOfWork } from '@infra/persistence';
import { KeyEncryptionSettings, type KeyEncryption } from '@infra/security';

/** Payments' key-encryption keys (FICUS_KEY_ENCRYPTION_KEYS), made once at start-up. */
export const KEY_ENCRYPTION = KeyEncryptionSettings.token;

/** How long a held payment method waits for an order to take it; then it is erased. */
export const UNUSED_PAYMENT_METHOD_HOURS = 24;

/** What a sealed token is bound to: its own row, so a sealed value copied to another row does not open. */
const sealedFor = (paymentMethodId: string) => `payments.payment_methods:${paymentMethodId}`;

/**
 * Payments' vault of card tokens (ADR 0037). A token is held for one customer, sealed with the
 * key-encryption key; the first order of that customer that names it takes it, and it pays for
 * that order only. Its token is erased once no charge can need it (the order charged, declined or
 * failed), and a payment method no order took within UNUSED_PAYMENT_METHOD_HOURS goes altogether.
 * The token leaves the vault only towards the payment provider.
 */
@Injectable()
export class PaymentMethodVault {
  constructor(
    private readonly uow: UnitOfWork,
    @Inject(KEY_ENCRYPTION) private readonly encryption: KeyEncryption,
  ) {}

  /** Holds a customer's token under a new id; the fingerprint is the same for the same token of the same customer. */
  async hold(customerId: string, token: string): Promise<{ paymentMethodId: string; fingerprint: string }> {
    const paymentMethodId = randomUUID();
    await this.uow.manager.query('INSERT INTO payment_methods (id, customer_id, sealed_token) VALUES ($1, $2, $3)', [
      paymentMethodId,
      customerId,
      this.encryption.seal(token, sealedFor(paymentMethodId)),
    ]);
    return { paymentMethodId, fingerprint: this.encryption.fingerprint(token, `customer:${customerId}`) };
  }

  /**
   * An order-created v1 brought the token itself: held at once, taken by that order. The order's
   * payment method if it has one already.
   */
  async holdForOrder(orderId: string, customerId: string, token: string): Promise<string> {
    const paymentMethodId = randomUUID();
    const [row] = (await this.uow.manager.query(
      `INSERT INTO payment_methods (id, customer_id, sealed_token, order_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (order_id) DO UPDATE SET order_id = EXCLUDED.order_id
       RETURNING id`,
      [paymentMethodId, customerId, this.encryption.seal(token, sealedFor(paymentMethodId)), orderId],
    )) as Array<{ id: string }>;
    return row.id;
  }

  /**
   * The order takes the payment method it names, if that was held for the order's own customer
   * and no other order took it. Nothing waits for the answer: `tokenFor` finds whether it took.
   */
  takeFor(orderId: string, customerId: string, paymentMethodId: string): Promise<void> {
    return this.uow.defer(
      `UPDATE payment_methods SET order_id = $1
        WHERE id = $3 AND customer_id = $2 AND order_id IS NULL AND sealed_token IS NOT NULL`,
      [orderId, customerId, paymentMethodId],
    );
  }

  /** The token of the payment method the order took; none when it took none (see takeFor) or it was erased. */
  async tokenFor(orderId: string, paymentMethodId: string): Promise<string | undefined> {
    const [row] = (await this.uow.manager.query(
      'SELECT sealed_token FROM payment_methods WHERE id = $1 AND order_id = $2 AND sealed_token IS NOT NULL',
      [paymentMethodId, orderId],
    )) as Array<{ sealed_token: string }>;
    return row ? this.encryption.open(row.sealed_token, sealedFor(paymentMethodId)) : undefined;
  }

  /** No charge of the order can need its token any more: erased. */
  eraseTokenOf(orderId: string): Promise<void> {
    return this.uow.defer(
      'UPDATE payment_methods SET sealed_token = NULL WHERE order_id = $1 AND sealed_token IS NOT NULL',
      [orderId],
    );
  }

  /** Payment methods no order took in time, with their tokens; how many. */
  async eraseUnused(): Promise<number> {
    const [, deleted] = (await this.uow.manager.query(
      'DELETE FROM payment_methods WHERE order_id IS NULL AND held_at < now() - make_interval(hours => $1::int)',
      [UNUSED_PAYMENT_METHOD_HOURS],
    )) as [unknown, number];
    return deleted;
  }
}
