import { defineSettings, NODE_ENV, optionalText } from '@infra/config';
import type { PaymentProvider } from '../domain/payment-provider';
import { FakePaymentProvider, fakeProviderOptionsFromEnv } from './fake-payment.provider';

/**
 * What a provider is made from: the process's environment and, for one that keeps books here, the
 * context's database.
 */
export interface ProviderSettings {
  /** The variables of {@link PaymentProviderSettings}, as the process read them at start-up. */
  readonly env: ProviderVariables;
  readonly connectionUrl: string;
}

/**
 * The payment providers this build knows, by the name `FICUS_PAYMENT_PROVIDER` gives (`fake`
 * unless set). A real provider (a card processor's SDK behind the `PaymentProvider` port) is one
 * more entry here and its own file beside the fake: nothing else of payments changes
 * (docs/payments.md).
 */
export const PAYMENT_PROVIDERS: Readonly<Record<string, (settings: ProviderSettings) => PaymentProvider>> = {
  fake: ({ env, connectionUrl }) => new FakePaymentProvider(connectionUrl, fakeProviderOptionsFromEnv(env)),
};

/**
 * The provider the environment names. The fake never takes real money, so it must never be
 * what a production shop charges with by mistake: with `NODE_ENV=production` it refuses to start
 * unless `FICUS_FAKE_PAYMENTS=allow-in-production` says someone meant it (a demo).
 */
export function paymentProviderOf(settings: ProviderSettings): PaymentProvider {
  return PAYMENT_PROVIDERS[checkedProviderName(settings.env)](settings);
}

type ProviderVariables = Readonly<Record<string, string | undefined>>;

/** The provider's name, once the variables are known to make it; else what is wrong, as an error. */
function checkedProviderName(env: ProviderVariables): string {
  const name = env.FICUS_PAYMENT_PROVIDER || 'fake';
  if (!Object.hasOwn(PAYMENT_PROVIDERS, name)) {
    throw new Error(
      `FICUS_PAYMENT_PROVIDER=${name} is no provider of this build; it knows ` +
        `${Object.keys(PAYMENT_PROVIDERS).join(', ')}`,
    );
  }
  if (
    name === 'fake' &&
    env.NODE_ENV?.trim().toLowerCase() === 'production' &&
    env.FICUS_FAKE_PAYMENTS !== 'allow-in-production'
  ) {
    throw new Error(
      'the fake payment provider does not run with NODE_ENV=production: it approves test tokens and takes no money. ' +
        'Plug a real provider (docs/payments.md), or set FICUS_FAKE_PAYMENTS=allow-in-production for a demo',
    );
  }
  if (name === 'fake') fakeProviderOptionsFromEnv(env); // its own settings, checked now
  return name;
}

/**
 * What payments reads to choose and make its provider, checked at start-up with everything else:
 * a provider that cannot be made stops the process before it starts. A real provider adds the
 * variables it reads here (its API key, its endpoint).
 */
export const PaymentProviderSettings = defineSettings(
  'payments: provider',
  {
    FICUS_PAYMENT_PROVIDER: optionalText(),
    NODE_ENV,
    FICUS_FAKE_PAYMENTS: optionalText(),
    FICUS_FAKE_PAYMENT_FAILURE_RATE: optionalText(),
    FICUS_FAKE_PAYMENT_LATENCY_MS: optionalText(),
    FICUS_FAKE_PAYMENT_SLOW_MS: optionalText(),
  },
  (values): ProviderVariables => {
    checkedProviderName(values);
    return values;
  },
);
