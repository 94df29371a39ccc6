import { Module, type OnModuleInit } from '@nestjs/common';
import { CustomerRegistered, EmailConfirmationRequested, RegistrationAttempted } from '@contracts/identity';
import { NotificationsContract } from '@contracts/notifications';
import { OrderConfirmed, OrderFailed } from '@contracts/ordering';
import { FlagsModule } from '@infra/flags';
import { ContextRuntime, FicusModule } from '@infra/runtime';
import { SendConfirmationOnEmailConfirmationRequested } from './application/account-email/send-confirmation-on-email-confirmation-requested.handler';
import { WarnOwnerOnRegistrationAttempted } from './application/account-email/warn-owner-on-registration-attempted.handler';
import { NotificationsContractAdapter } from './application/notifications.contract-adapter';
import {
  NotifyOnOrderConfirmed,
  NotifyOnOrderFailed,
  OrderNotifier,
} from './application/notify-customer/notify-customer.handlers';
import { NEW_CONFIRMATION_EMAIL } from './application/notify-customer/new-confirmation-email.flag';
import { RememberRecipientOnCustomerRegistered } from './application/remember-recipient/remember-recipient.handler';
import { EMAIL_SENDER } from './domain/order-email';
import { CreateNotifications1764000000700 } from './persistence/migrations/1764000000700-create-notifications';
import { NotificationRepository } from './persistence/notification.repository';
import { LogEmailSender } from './sender/log-email.sender';

/** Small enough that it needs no private command bus: handlers call the repository directly. */
@Module({
  imports: [
    FicusModule.forContext({ context: 'notifications', entities: [], migrations: [CreateNotifications1764000000700] }),
    FlagsModule.forFeature([NEW_CONFIRMATION_EMAIL]),
  ],
  providers: [
    NotificationRepository,
    { provide: EMAIL_SENDER, useClass: LogEmailSender },
    OrderNotifier,
    NotifyOnOrderConfirmed,
    NotifyOnOrderFailed,
    RememberRecipientOnCustomerRegistered,
    SendConfirmationOnEmailConfirmationRequested,
    WarnOwnerOnRegistrationAttempted,
    NotificationsContractAdapter,
  ],
})
export class NotificationsModule implements OnModuleInit {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly adapter: NotificationsContractAdapter,
    private readonly onCustomerRegistered: RememberRecipientOnCustomerRegistered,
    private readonly onOrderConfirmed: NotifyOnOrderConfirmed,
    private readonly onOrderFailed: NotifyOnOrderFailed,
    private readonly onConfirmationRequested: SendConfirmationOnEmailConfirmationRequested,
    private readonly onRegistrationAttempted: WarnOwnerOnRegistrationAttempted,
  ) {}

  onModuleInit(): void {
    this.runtime.serve(NotificationsContract, this.adapter);
    this.runtime.consume(CustomerRegistered, this.onCustomerRegistered);
    this.runtime.consume(OrderConfirmed, this.onOrderConfirmed);
    this.runtime.consume(OrderFailed, this.onOrderFailed);
    this.runtime.consume(EmailConfirmationRequested, this.onConfirmationRequested);
    this.runtime.consume(RegistrationAttempted, this.onRegistrationAttempted);
  }
}
