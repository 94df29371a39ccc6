import { defineFlag } from '@infra/flags';

/**
 * Release toggle of the rewritten order-confirmed email (domain/order-email.ts). Evaluated per
 * customer, so a customer keeps getting the same wording while the share grows:
 * `ficus flags set notifications.new-confirmation-email 10`, then 50, then on.
 */
export const NEW_CONFIRMATION_EMAIL = defineFlag({
  name: 'notifications.new-confirmation-email',
  default: 'off',
  description: 'Release toggle: the rewritten order-confirmed email (what happens next, tracking hint), per customer',
});
