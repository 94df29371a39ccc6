import { Module } from '@nestjs/common';
import { CustomerRegistered, EmailConfirmationRequested, RegistrationAttempted } from '@contracts/identity';
import { NotificationsContract } from '@contracts/notifications';
import { OrderConfirmed, OrderFailed } from '@contracts/ordering';
import { FlagsModule } from '@infra/flags';
import { RunModeSettings } from '@infra/config';
import { FicusModule } from '@infra/runtime';
import {
  SendConfirmationOnEmailConfirmationRequested,
  WarnOwnerOnRegistrationAttempted,
} from './application/account-email';
import { NotificationsContractAdapter } from './application/notifications.contract-adapter';
import { NEW_CONFIRMATION_EMAIL } from './application/notify-customer/new-confirmation-email.flag';
import { NotifyOnOrderConfirmed } from './application/notify-customer/notify-on-order-confirmed.handler';
import { NotifyOnOrderFailed } from './application/notify-customer/notify-on-order-failed.handler';
import { OrderNotifier } from './application/notify-customer/order-notifier';
import { RememberRecipientOnCustomerRegistered } from './application/remember-recipient';
import { EMAIL_SENDER } from './domain/order-email';
import { CreateNotifications1764000000700 } from './persistence/migrations/1764000000700-create-notifications';
import { CreateEmailDeliveries1764000000701 } from './persistence/migrations/1764000000701-create-email-deliveries';
import { EmailDeliveries } from './persistence/email-deliveries.repository';
import { NotificationRepository } from './persistence/notification.repository';
import { LogEmailSender } from './sender/log-email.sender';
import { SmtpEmailSender } from './sender/smtp-email.sender';
import { EmailDispatcher } from './application/email-delivery/email-dispatcher';
import { MailSettings, type MailOptions } from './application/mail.settings';

/** Small enough that it needs no private command bus: handlers call the repository directly. */
@Module({
  imports: [
    FicusModule.forContext({
      context: 'notifications',
      entities: [],
      migrations: [CreateNotifications1764000000700, CreateEmailDeliveries1764000000701],
      serves: [NotificationsContract, NotificationsContractAdapter],
      consumes: [
        [CustomerRegistered, RememberRecipientOnCustomerRegistered],
        [OrderConfirmed, NotifyOnOrderConfirmed],
        [OrderFailed, NotifyOnOrderFailed],
        [EmailConfirmationRequested, SendConfirmationOnEmailConfirmationRequested],
        [RegistrationAttempted, WarnOwnerOnRegistrationAttempted],
      ],
      settings: [MailSettings, RunModeSettings],
    }),
    FlagsModule.forFeature([NEW_CONFIRMATION_EMAIL]),
  ],
  providers: [
    NotificationRepository,
    EmailDeliveries,
    {
      provide: EMAIL_SENDER,
      inject: [MailSettings.token],
      useFactory: (mail: MailOptions) =>
        mail.smtpUrl ? new SmtpEmailSender(mail.smtpUrl, mail.from) : new LogEmailSender(),
    },
    EmailDispatcher,
    OrderNotifier,
    NotifyOnOrderConfirmed,
    NotifyOnOrderFailed,
    RememberRecipientOnCustomerRegistered,
    SendConfirmationOnEmailConfirmationRequested,
    WarnOwnerOnRegistrationAttempted,
    NotificationsContractAdapter,
  ],
})
export class NotificationsModule {}
