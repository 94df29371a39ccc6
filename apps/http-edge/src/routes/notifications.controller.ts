import { Controller, Get, Inject, Query, Req, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { NOTIFICATIONS, type NotificationsApi } from '@contracts/notifications';
import { AuthGuard, RequireRoles, type AuthenticatedRequest } from '../auth/auth.guard';
import { RequestContexts } from '../request-context';
import { parseOr } from '../validation';
import { PageQuery } from './catalog.controller';

export const NotificationsQuery = PageQuery.extend({ all: z.enum(['true', 'false']).optional() });

@Controller()
@UseGuards(AuthGuard)
export class NotificationsController {
  constructor(
    @Inject(NOTIFICATIONS) private readonly notifications: NotificationsApi,
    private readonly contexts: RequestContexts,
  ) {}

  /** The caller's own notifications; an admin may ask for everyone's with ?all=true. */
  @Get('notifications')
  @RequireRoles()
  list(@Req() request: AuthenticatedRequest, @Query() query: unknown) {
    const ctx = this.contexts.of(request);
    const { all, page, pageSize } = parseOr(NotificationsQuery, query, 'query');
    const everyone = all === 'true' && ctx.caller!.roles.includes('admin');
    return this.notifications.listNotifications(ctx, {
      recipientId: everyone ? undefined : ctx.caller!.subject,
      page,
      pageSize,
    });
  }
}
