import { Injectable } from '@nestjs/common';
import type { CustomerRegistered } from '@contracts/identity';
import type { PayloadOf } from '@contracts/kernel';
import type { IntegrationEventHandler } from '@infra/messaging';
import { NotificationRepository } from '../../persistence/notification.repository';

/** Keeps its own copy of where to reach each customer, so sending never asks identity. */
@Injectable()
export class RememberRecipientOnCustomerRegistered implements IntegrationEventHandler<typeof CustomerRegistered> {
  constructor(private readonly notifications: NotificationRepository) {}

  async handle(customer: PayloadOf<typeof CustomerRegistered>): Promise<void> {
    await this.notifications.rememberRecipient(customer.customerId, customer.email);
  }
}
