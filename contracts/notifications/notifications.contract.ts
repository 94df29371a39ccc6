import { z } from 'zod';
import { NotificationsServiceDefinition } from '../generated/notifications/notifications';
import { defineContract, unary, type ContractApi } from '../kernel/contract';
import { IdSchema } from '../kernel/ids';

export const NotificationViewSchema = z.object({
  id: IdSchema,
  recipientId: z.string(),
  channel: z.enum(['email']),
  to: z.string(),
  subject: z.string(),
  body: z.string(),
  orderId: z.string().optional(),
  sentAt: z.iso.datetime({ offset: true }),
});
export type NotificationView = z.infer<typeof NotificationViewSchema>;

export const NotificationsContract = defineContract(
  'notifications',
  'notifications.v1.NotificationsService',
  {
    listNotifications: unary(
      z.object({
        recipientId: z.string().optional(),
        page: z.number().int().min(1).default(1),
        pageSize: z.number().int().min(1).max(100).default(20),
      }),
      z.object({ items: z.array(NotificationViewSchema), total: z.number().int() }),
      // A recipient's own (an admin's: anyone's, or everyone's without a recipient).
      { idempotent: true, access: { owner: true }, aggregate: { type: 'customer', of: (r) => r.recipientId } },
    ),
    /**
     * Development only (refused with NODE_ENV=production): what the shop mailed to `to`, newest
     * first, as Phoenix's dev mailbox shows it. Behind `GET /dev/mailbox`.
     */
    mailbox: unary(
      z.object({ to: z.string().min(1).max(254) }),
      z.object({
        items: z.array(
          z.object({
            subject: z.string(),
            text: z.string(),
            kind: z.string(),
            sentAt: z.iso.datetime({ offset: true }),
          }),
        ),
      }),
      { idempotent: true, access: { services: ['edge'] } },
    ),
  },
  NotificationsServiceDefinition,
);

export type NotificationsApi = ContractApi<typeof NotificationsContract>;
export const NOTIFICATIONS = NotificationsContract.token;
