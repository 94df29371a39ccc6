import { Inject, Injectable } from '@nestjs/common';
import { mayActFor, notFound, permissionDenied, type CallContext } from '@contracts/kernel';
import type { NotificationsApi } from '@contracts/notifications';
import { RunModeSettings, type RunMode } from '@infra/config';
import { NotificationRepository } from '../persistence/notification.repository';

@Injectable()
export class NotificationsContractAdapter implements NotificationsApi {
  constructor(
    private readonly notifications: NotificationRepository,
    @Inject(RunModeSettings.token) private readonly mode: RunMode,
  ) {}

  /** A recipient's own; an admin's: anyone's, or everyone's when no recipient is named. */
  listNotifications(ctx: CallContext, request: { recipientId?: string; page?: number; pageSize?: number }) {
    const everyone = request.recipientId === undefined;
    if (everyone ? !ctx.caller?.roles.includes('admin') : !mayActFor(ctx, request.recipientId)) {
      throw permissionDenied('not-this-recipient', 'a customer may read only their own notifications');
    }
    return this.notifications.list(request.recipientId, request.page ?? 1, request.pageSize ?? 20);
  }

  /** Development only: with NODE_ENV=production there is no mailbox to read, as if the method did not exist. */
  async mailbox(_ctx: CallContext, request: { to: string }) {
    if (this.mode.production) throw notFound('mailbox-not-found', 'there is no development mailbox in production');
    return { items: await this.notifications.mailbox(request.to) };
  }
}
