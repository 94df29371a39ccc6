import { withoutSecrets } from '@infra/observability';

/** What a person is shown of a stored message (a dead letter's envelope): no secret, at any depth. */
describe('withoutSecrets', () => {
  it('redacts every spelling of a secret field at any depth, arrays included, and keeps the rest', () => {
    const envelope = {
      id: 'e-1',
      payload: {
        orderId: 'o-1',
        paymentToken: 'tok_visa',
        lines: [{ sku: 'SOIL-MIX', card: { payment_token: 'tok_x', token: 'tok_y' } }],
        customer: { password: 'hunter2', accessToken: 'a.b.c', refreshToken: 'r', credential: 'c' },
        note: null,
      },
    };
    expect(withoutSecrets(envelope)).toEqual({
      id: 'e-1',
      payload: {
        orderId: 'o-1',
        paymentToken: '[redacted]',
        lines: [{ sku: 'SOIL-MIX', card: { payment_token: '[redacted]', token: '[redacted]' } }],
        customer: {
          password: '[redacted]',
          accessToken: '[redacted]',
          refreshToken: '[redacted]',
          credential: '[redacted]',
        },
        note: null,
      },
    });
    expect(envelope.payload.paymentToken).toBe('tok_visa'); // a copy: the stored value is untouched
  });

  it('shows nothing, rather than failing, for what is nested deeper than JSON goes', () => {
    let deep: unknown = { token: 'tok_deep' };
    for (let n = 0; n < 100_000; n++) deep = [deep];
    expect(withoutSecrets(deep)).toEqual({ notShown: 'nested too deeply to show' });
  });
});
