import { mayActFor, permissionDenied, unauthenticated, type CallContext } from '@contracts/kernel';

/**
 * Whose card is held: the end user the call carries (verified from the relayed access token when
 * it crossed a process, ADR 0031), or the customer an admin names. A call without an end user is
 * refused, wherever it comes from, as ordering refuses one.
 */
export function customerHeldFor(ctx: CallContext, customerId: string | undefined): string {
  const caller = ctx.caller;
  if (!caller) {
    throw unauthenticated('end-user-required', 'payment methods are held on behalf of a signed-in customer');
  }
  const customer = customerId ?? caller.subject;
  if (!mayActFor(ctx, customer)) {
    throw permissionDenied('not-this-customer', 'a customer may hold payment methods only for themselves');
  }
  return customer;
}
