import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import type { OnApplicationShutdown } from '@nestjs/common';
import {
  type ChargeOutcome,
  type PaymentProvider,
  PaymentProviderUnavailable,
  type RefundOutcome,
} from '../domain/payment-provider';

export interface FakePaymentProviderOptions {
  /** Share (0–1) of calls (charges, refunds) that fail as "provider unavailable" and get retried. */
  readonly failureRate: number;
  /** Added to every call (charge or refund), in milliseconds. */
  readonly latencyMs: number;
  /** How long `tok_slow` takes to answer, in milliseconds. */
  readonly slowMs: number;
}

/** What the fake does with a test token, as a real provider's test mode documents its own. */
export type TestTokenBehaviour =
  | { readonly outcome: 'approved' }
  | { readonly outcome: 'declined'; readonly reason: string }
  | { readonly outcome: 'unavailable' }
  | { readonly outcome: 'slow' };

/**
 * The test tokens the fake provider knows (docs/payments.md). The match is exact: `TOK_VISA`,
 * `tok_visa ` or any other string is not a card the fake knows, and is declined as
 * `invalid-token`, as a real provider refuses a token it never issued.
 */
export const TEST_TOKENS: Readonly<Record<string, TestTokenBehaviour>> = {
  tok_visa: { outcome: 'approved' },
  tok_mastercard: { outcome: 'approved' },
  tok_decline: { outcome: 'declined', reason: 'card-declined' },
  tok_insufficient_funds: { outcome: 'declined', reason: 'insufficient-funds' },
  /** The provider cannot answer, every time: the charge is retried until the saga's deadline fails the order. */
  tok_provider_error: { outcome: 'unavailable' },
  /** Approved after `FICUS_FAKE_PAYMENT_SLOW_MS` (2 s by default). */
  tok_slow: { outcome: 'slow' },
};

export const INVALID_TOKEN_REASON = 'invalid-token';

export function fakeProviderOptionsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): FakePaymentProviderOptions {
  const failureRate = Number(env.FICUS_FAKE_PAYMENT_FAILURE_RATE ?? 0);
  const latencyMs = Number(env.FICUS_FAKE_PAYMENT_LATENCY_MS ?? 0);
  const slowMs = Number(env.FICUS_FAKE_PAYMENT_SLOW_MS ?? 2_000);
  if (!(failureRate >= 0 && failureRate <= 1)) {
    throw new Error('FICUS_FAKE_PAYMENT_FAILURE_RATE must be a number from 0 to 1');
  }
  if (!(latencyMs >= 0)) {
    throw new Error('FICUS_FAKE_PAYMENT_LATENCY_MS must be a number of milliseconds ≥ 0');
  }
  if (!(slowMs >= 0)) {
    throw new Error('FICUS_FAKE_PAYMENT_SLOW_MS must be a number of milliseconds ≥ 0');
  }
  return { failureRate, latencyMs, slowMs };
}

/**
 * The payment provider that ships for development and tests. Like a real provider's test mode, it
 * knows a documented set of test tokens, each with its outcome (`TEST_TOKENS`), and declines any
 * other as `invalid-token`. Failures and latency are configurable. Like a real provider, it
 * remembers each idempotency key, in its own ledger tables (charges, refunds), written outside
 * the caller's transaction (a real provider's books do not roll back with ours), so a retried
 * charge is never a second charge, a retried refund never a second refund, and tests can count
 * both. It keeps no token: its ledger has the outcome, never the card.
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

  async charge(request: {
    idempotencyKey: string;
    amount: { amountMinor: number; currency: string };
    token: string;
  }): Promise<ChargeOutcome> {
    if (this.options.latencyMs > 0) {
      await sleep(this.options.latencyMs);
    }
    const earlier = await this.findCharge(request.idempotencyKey);
    if (earlier) return earlier;
    if (Math.random() < this.options.failureRate) {
      throw new PaymentProviderUnavailable('fake provider: simulated outage');
    }
    const outcome = await this.answerFor(request.token);
    // Two charges racing on one key: the first one's outcome is the answer for both, as a real
    // provider's idempotency gives (the other's reference would name a charge nobody could refund).
    const [stored] = (
      await this.ledger.query(
        `INSERT INTO fake_provider_charges (idempotency_key, amount_minor, currency, outcome, reference, reason)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
         RETURNING outcome, reference, reason`,
        [
          request.idempotencyKey,
          request.amount.amountMinor,
          request.amount.currency,
          outcome.outcome,
          outcome.outcome === 'approved' ? outcome.reference : null,
          outcome.outcome === 'declined' ? outcome.reason : null,
        ],
      )
    ).rows as LedgerCharge[];
    this.logger.debug({ idempotencyKey: request.idempotencyKey, outcome: stored.outcome }, 'charge');
    return outcomeOf(stored);
  }

  /** What the provider answers for a token (Object.hasOwn: `__proto__` or `constructor` is no test card). */
  private async answerFor(token: string): Promise<ChargeOutcome> {
    const behaviour = Object.hasOwn(TEST_TOKENS, token) ? TEST_TOKENS[token] : undefined;
    switch (behaviour?.outcome) {
      case undefined:
        return { outcome: 'declined', reason: INVALID_TOKEN_REASON };
      case 'declined':
        return { outcome: 'declined', reason: behaviour.reason };
      case 'unavailable':
        throw new PaymentProviderUnavailable('fake provider: tok_provider_error always finds the provider unavailable');
      case 'slow':
        await sleep(this.options.slowMs);
        return this.approved();
      case 'approved':
        return this.approved();
    }
  }

  private approved(): ChargeOutcome {
    return { outcome: 'approved', reference: `fake_ch_${randomUUID().replaceAll('-', '').slice(0, 20)}` };
  }

  async findCharge(idempotencyKey: string): Promise<ChargeOutcome | undefined> {
    const [earlier] = (
      await this.ledger.query(
        'SELECT outcome, reference, reason FROM fake_provider_charges WHERE idempotency_key = $1',
        [idempotencyKey],
      )
    ).rows as LedgerCharge[];
    return earlier ? outcomeOf(earlier) : undefined;
  }

  async refund(request: {
    idempotencyKey: string;
    chargeReference: string;
    amount: { amountMinor: number; currency: string };
  }): Promise<RefundOutcome> {
    if (this.options.latencyMs > 0) {
      await sleep(this.options.latencyMs);
    }
    const [earlier] = (
      await this.ledger.query('SELECT reference FROM fake_provider_refunds WHERE idempotency_key = $1', [
        request.idempotencyKey,
      ])
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
        [
          request.idempotencyKey,
          request.chargeReference,
          request.amount.amountMinor,
          request.amount.currency,
          reference,
        ],
      )
    ).rows as Array<{ reference: string }>;
    this.logger.debug({ idempotencyKey: request.idempotencyKey }, 'refund');
    return { reference: stored.reference };
  }
}

/** A charge as the fake's ledger holds it. */
interface LedgerCharge {
  readonly outcome: 'approved' | 'declined';
  readonly reference: string | null;
  readonly reason: string | null;
}

function outcomeOf(charge: LedgerCharge): ChargeOutcome {
  return charge.outcome === 'approved'
    ? { outcome: 'approved', reference: charge.reference! }
    : { outcome: 'declined', reason: charge.reason! };
}
