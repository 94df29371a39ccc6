import { randomUUID } from 'node:crypto';
import { CustomerRegistered } from '@contracts/identity';
import { OrderConfirmed } from '@contracts/ordering';

/** A customer notifications has not heard of yet, with an address of their own (`<prefix>-…@example.com`). */
export function newCustomer(prefix = 'buyer'): { customerId: string; email: string } {
  return { customerId: randomUUID(), email: `${prefix}-${randomUUID().slice(0, 8)}@example.com` };
}

/** identity's customer-registered for `customer`: where notifications learns the address. */
export function registered(customer: { customerId: string; email: string }) {
  return CustomerRegistered.create(customer, { correlationId: customer.customerId });
}

/** ordering's order-confirmed of `customerId`'s order (a new one unless `orderId` is given). */
export function confirmed(customerId: string, orderId: string = randomUUID()) {
  return OrderConfirmed.create(
    { orderId, customerId, total: { amountMinor: 2_450, currency: 'EUR' } },
    { correlationId: orderId },
  );
}
