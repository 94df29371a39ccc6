import { Injectable } from '@nestjs/common';
import type { CallContext } from '@contracts/kernel';
import type { NotificationsApi } from '@contracts/notifications';
import { NotificationRepository } from '../persistence/notification.repository';

@Injectable()
export class NotificationsContractAdapter implements NotificationsApi {
  constructor(private readonly notifications: NotificationRepository) {}

  listNotifications(_ctx: CallContext, request: { recipientId?: string; page?: number; pageSize?: number }) {
    return this.notifications.list(request.recipientId, request.page ?? 1, request.pageSize ?? 20);
  }
}
