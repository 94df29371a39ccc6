import { formatMoney, type Money } from '@contracts/kernel';

export interface EmailMessage {
  readonly to: string;
  readonly subject: string;
  readonly body: string;
}

/** What a customer reads when their order is confirmed. */
export function orderConfirmedEmail(to: string, orderId: string, total: Money): EmailMessage {
  return {
    to,
    subject: `Your order ${shortId(orderId)} is confirmed`,
    body: `Thank you! Order ${orderId} is confirmed and paid (${formatMoney(total)}). It is on its way.`,
  };
}

/**
 * The rewritten confirmation, behind the release toggle notifications.new-confirmation-email:
 * it tells the customer what happens next instead of only that it happened.
 */
export function orderConfirmedEmailWhatNext(to: string, orderId: string, total: Money): EmailMessage {
  return {
    to,
    subject: `Order ${shortId(orderId)} confirmed: your plants are being packed`,
    body:
      `Thank you! We have your payment of ${formatMoney(total)} for order ${orderId}, and your plants are ` +
      `being packed. ` +
      'The tracking number shows in your order details as soon as the parcel leaves.',
  };
}

/** What a customer reads when their order could not be completed. */
export function orderFailedEmail(to: string, orderId: string, reason: string): EmailMessage {
  const why = reason.startsWith('out-of-stock')
    ? 'some items are out of stock'
    : reason === 'payment-failed'
      ? 'the payment was declined'
      : reason.startsWith('saga-deadline-exceeded')
        ? 'it took too long to complete'
        : 'it could not be completed';
  // A saga given up at its deadline may have charged the order already: payments refunds it.
  const money = reason.startsWith('saga-deadline-exceeded')
    ? 'Any amount charged is refunded.'
    : 'Nothing was charged.';
  return {
    to,
    subject: `Your order ${shortId(orderId)} could not be placed`,
    body: `We are sorry: order ${orderId} was not placed because ${why}. ${money}`,
  };
}

function shortId(orderId: string): string {
  return orderId.slice(0, 8);
}

/** An email as it leaves: its notification's id names it, so that a resend is the same message. */
export interface OutgoingEmail extends EmailMessage {
  readonly id: string;
}

/**
 * The port a mail service plugs into (sender/). It is called after the notification's transaction
 * has committed (EmailDispatcher), never inside it. A failure is tried again later, unless it is an
 * {@link EmailRefused}.
 */
export interface EmailSender {
  send(email: OutgoingEmail): Promise<void>;
  /** Lets go of its connections; called once nothing more is sent. */
  close?(): void;
}

/** The mail server refused the email's recipient for good (a 5xx to RCPT TO): not tried again. */
export class EmailRefused extends Error {
  override readonly name = 'EmailRefused';
}

export const EMAIL_SENDER = Symbol('EmailSender');
