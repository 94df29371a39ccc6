import { needsRefund, readyToCharge, refunded, settle, type Payment } from './payment';

const eur = (amountMinor: number) => ({ amountMinor, currency: 'EUR' });

const pending: Payment = {
  orderId: 'order-1',
  amount: eur(1_500),
  paymentMethodId: '5f0c2b1e-8d7a-4c3b-9e2f-1a0b9c8d7e6f',
  stockReserved: true,
  status: 'PENDING',
  orderFailed: false,
};

describe('readyToCharge', () => {
  it('once priced and its stock reserved', () => {
    expect(readyToCharge(pending)).toBe(true);
    expect(readyToCharge({ ...pending, stockReserved: false })).toBe(false);
    expect(readyToCharge({ ...pending, amount: undefined })).toBe(false);
    expect(readyToCharge({ ...pending, paymentMethodId: undefined })).toBe(false);
  });

  it('with a token an earlier release kept instead of a payment method', () => {
    expect(readyToCharge({ ...pending, paymentMethodId: undefined, token: 'tok_visa' })).toBe(true);
  });

  it('never once its order has failed, whatever else it knows', () => {
    expect(readyToCharge({ ...pending, orderFailed: true })).toBe(false);
  });

  it('never twice', () => {
    expect(readyToCharge(settle(pending, { outcome: 'approved', reference: 'ch_1' }))).toBe(false);
  });
});

describe('needsRefund', () => {
  const captured = settle(pending, { outcome: 'approved', reference: 'ch_1' });

  it('a captured payment whose order failed', () => {
    expect(needsRefund({ ...captured, orderFailed: true })).toBe(true);
  });

  it.each<[string, Payment]>([
    ['its order has not failed', captured],
    ['it was never charged', { ...pending, orderFailed: true }],
    ['it was declined', { ...settle(pending, { outcome: 'declined', reason: 'card-declined' }), orderFailed: true }],
    [
      'it is refunded already',
      { ...captured, orderFailed: true, refundReference: 're_1', refundedAt: '2025-01-01T10:00:00.000Z' },
    ],
  ])('not when %s', (_name, payment) => {
    expect(needsRefund(payment)).toBe(false);
  });

  it('is refunded once', () => {
    const done = refunded({ ...captured, orderFailed: true }, 're_1', '2025-01-01T10:00:00.000Z');
    expect(done).toMatchObject({
      status: 'COMPLETED',
      refundReference: 're_1',
      refundedAt: '2025-01-01T10:00:00.000Z',
    });
    expect(needsRefund(done)).toBe(false);
    expect(() => refunded(done, 're_2', '2025-01-01T10:01:00.000Z')).toThrow(RangeError);
  });
});
