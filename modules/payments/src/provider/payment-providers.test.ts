import { FakePaymentProvider } from './fake-payment.provider';
import { paymentProviderOf } from './payment-providers';

const connectionUrl = 'postgres://payments@127.0.0.1:1/never-connected';

describe('choosing the payment provider', () => {
  it('is the fake unless FICUS_PAYMENT_PROVIDER names another', async () => {
    const provider = paymentProviderOf({ env: {}, connectionUrl });
    expect(provider).toBeInstanceOf(FakePaymentProvider);
    await (provider as FakePaymentProvider).onApplicationShutdown();
  });

  it('refuses a provider this build does not know, naming the ones it does', () => {
    expect(() => paymentProviderOf({ env: { FICUS_PAYMENT_PROVIDER: 'stripe' }, connectionUrl })).toThrow(
      /FICUS_PAYMENT_PROVIDER=stripe .* knows fake/,
    );
    expect(() => paymentProviderOf({ env: { FICUS_PAYMENT_PROVIDER: '__proto__' }, connectionUrl })).toThrow(
      /no provider of this build/,
    );
  });

  it('refuses the fake with NODE_ENV=production unless someone allowed it by name', async () => {
    expect(() => paymentProviderOf({ env: { NODE_ENV: 'production' }, connectionUrl })).toThrow(
      /does not run with NODE_ENV=production/,
    );
    expect(() =>
      paymentProviderOf({ env: { NODE_ENV: 'production', FICUS_FAKE_PAYMENTS: 'yes' }, connectionUrl }),
    ).toThrow(/FICUS_FAKE_PAYMENTS=allow-in-production/);
    const allowed = paymentProviderOf({
      env: { NODE_ENV: 'production', FICUS_FAKE_PAYMENTS: 'allow-in-production' },
      connectionUrl,
    });
    expect(allowed).toBeInstanceOf(FakePaymentProvider);
    await (allowed as FakePaymentProvider).onApplicationShutdown();
  });
});
