import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import type { OnApplicationShutdown } from '@nestjs/common';
import { type ChargeOutcome, type PaymentProvider, PaymentProviderUnavailable, type RefundOutcome } from '../domain/payment-provider';

export interface FakePaymentProviderOptions {
  /** Share (0–1) of calls (charges, refunds) that fail as "provider unavailable" and get retried. */
  readonly failureRate: number;
  /** Added to every call (charge or refund), in milliseconds. */
  readonly latencyMs: number;
}

export const DECLINED_TOKEN = 'tok_decline';

export function fakeProviderOptionsFromEnv(env: NodeJS.ProcessEnv): FakePaymentProviderOptions {
  const failureRate = Number(env.FICUS_FAKE_PAYMENT_FAILURE_RATE ?? 0);
  const latencyMs = Number(env.FICUS_FAKE_PAYMENT_LATENCY_MS ?? 0);
  if (!(failureRate >= 0 && failureRate <= 1)) {
    throw new Error('FICUS_FAKE_PAYMENT_FAILURE_RATE must be a number from 0 to 1');
  }
  if (!(latencyMs >= 0)) {
    throw new Error('FICUS_FAKE_PAYMENT_LATENCY_MS must be a number of milliseconds ≥ 0');
  }
  return { failureRate, latencyMs };
}

/**
 * The payment provider that ships for development and tests. The token `tok_decline` is
 * declined; any other is approved. Failures and latency are configurable. Like a real provider,
 * it remembers each idempotency key, in its own ledger tables (charges, refunds), written outside
 * the caller's transaction (a real provider's books do not roll back with ours), so a retried
 * charge is never a second charge, a retried refund never a second refund, and tests can count
 * both.
 *
 * The ledger has a small pool of its own: a charge runs while the caller holds a connection of
 * the payments pool, and taking a second one from that same pool could wait forever under load.
 */
export class FakePaymentProvider implements PaymentProvider, OnApplicationShutdown {
  private readonly logger = new Logger('FakePaymentProvider');
  private readonly ledger: Pool;

  constructor(
    ledgerUrl: string,
    private readonly options: FakePaymentProviderOptions,
  ) {
    this.ledger = new Pool({ connectionString: ledgerUrl, max: 4, options: '-c search_path=payments' });
    // An idle ledger connection cut by the server (a restart, a shutdown) must not crash the process.
    this.ledger.on('error', (error) => this.logger.warn({ err: error }, 'ledger connection lost'));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.ledger.end();
  }

  async charge(request: { idempotencyKey: string; amount: { amountMinor: number; currency: string }; token: string }): Promise<ChargeOutcome> {
    if (this.options.latencyMs > 0) {
      await sleep(this.options.latencyMs);
    }
    const earlier = await this.findCharge(request.idempotencyKey);
    if (earlier) return earlier;
    if (Math.random() < this.options.failureRate) {
      throw new PaymentProviderUnavailable('fake provider: simulated outage');
    }
    const outcome: ChargeOutcome =
      request.token === DECLINED_TOKEN
        ? { outcome: 'declined', reason: 'card-declined' }
        : { outcome: 'approved', reference: `fake_ch_${randomUUID().replaceAll('-', '').slice(0, 20)}` };
    await this.ledger.query(
      `INSERT INTO fake_provider_charges (idempotency_key, amount_minor, currency, outcome, reference, reason)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING`,
      [
        request.idempotencyKey,
        request.amount.amountMinor,
        request.amount.currency,
        outcome.outcome,
        outcome.outcome === 'approved' ? outcome.reference : null,
        outcome.outcome === 'declined' ? outcome.reason : null,
      ],
    );
    this.logger.debug({ idempotencyKey: request.idempotencyKey, outcome: outcome.outcome }, 'charge');
    return outcome;
  }

  async findCharge(idempotencyKey: string): Promise<ChargeOutcome | undefined> {
    const [earlier] = (
      await this.ledger.query('SELECT outcome, reference, reason FROM fake_provider_charges WHERE idempotency_key = $1', [idempotencyKey])
    ).rows as Array<{ outcome: 'approved' | 'declined'; reference: string | null; reason: string | null }>;
    if (!earlier) return undefined;
    return earlier.outcome === 'approved' ? { outcome: 'approved', reference: earlier.reference! } : { outcome: 'declined', reason: earlier.reason! };
  }

  async refund(request: { idempotencyKey: string; chargeReference: string; amount: { amountMinor: number; currency: string } }): Promise<RefundOutcome> {
    if (this.options.latencyMs > 0) {
      await sleep(this.options.latencyMs);
    }
    const [earlier] = (
      await this.ledger.query('SELECT reference FROM fake_provider_refunds WHERE idempotency_key = $1', [request.idempotencyKey])
    ).rows as Array<{ reference: string }>;
    if (earlier) {
      return { reference: earlier.reference };
    }
    if (Math.random() < this.options.failureRate) {
      throw new PaymentProviderUnavailable('fake provider: simulated outage');
    }
    const [charge] = (
      await this.ledger.query(
        "SELECT amount_minor, currency FROM fake_provider_charges WHERE reference = $1 AND outcome = 'approved'",
        [request.chargeReference],
      )
    ).rows as Array<{ amount_minor: number; currency: string }>;
    // A real provider refuses to give back what it never took, or more than it took.
    if (!charge) {
      throw new Error(`fake provider: no approved charge ${request.chargeReference} to refund`);
    }
    if (charge.currency !== request.amount.currency || request.amount.amountMinor > charge.amount_minor) {
      throw new Error(`fake provider: cannot refund more than charge ${request.chargeReference} took`);
    }
    const reference = `fake_re_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
    // Two refunds racing on one key: the first one's reference is the answer for both.
    const [stored] = (
      await this.ledger.query(
        `INSERT INTO fake_provider_refunds (idempotency_key, charge_reference, amount_minor, currency, reference)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
         RETURNING reference`,
        [request.idempotencyKey, request.chargeReference, request.amount.amountMinor, request.amount.currency, reference],
      )
    ).rows as Array<{ reference: string }>;
    this.logger.debug({ idempotencyKey: request.idempotencyKey }, 'refund');
    return { reference: stored.reference };
  }
}
