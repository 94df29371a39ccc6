import { orderConfirmedEmail, orderFailedEmail } from './order-email';

const ORDER_ID = '0c9a1f2e-7b3d-4e5f-8a9b-0c1d2e3f4a5b';

describe('orderConfirmedEmail', () => {
  it('addresses the customer with a short id in the subject and the total in the body', () => {
    const email = orderConfirmedEmail('ana@example.com', ORDER_ID, { amountMinor: 10_050, currency: 'EUR' });
    expect(email.to).toBe('ana@example.com');
    expect(email.subject).toBe('Your order 0c9a1f2e is confirmed');
    expect(email.body).toContain(ORDER_ID);
    expect(email.body).toContain('100.50 EUR');
  });
});

describe('orderFailedEmail', () => {
  it.each([
    ['out-of-stock: LIMITED-POT', 'some items are out of stock'],
    ['payment-failed', 'the payment was declined'],
    ['saga-deadline-exceeded: waiting for payment, shipment', 'it took too long to complete'],
    ['something else', 'it could not be completed'],
  ])('explains the reason %p', (reason, explanation) => {
    const email = orderFailedEmail('ana@example.com', ORDER_ID, reason);
    expect(email.to).toBe('ana@example.com');
    expect(email.subject).toBe('Your order 0c9a1f2e could not be placed');
    expect(email.body).toContain(`because ${explanation}.`);
    expect(email.body).toContain(ORDER_ID);
  });

  it('promises a refund, not "nothing charged", when the saga was given up at its deadline', () => {
    const email = orderFailedEmail('ana@example.com', ORDER_ID, 'saga-deadline-exceeded: waiting for shipment');
    expect(email.body).toContain('Any amount charged is refunded.');
    expect(email.body).not.toContain('Nothing was charged');
  });
});
