import { Controller, Get, Inject, Query, Req } from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import { NOTIFICATIONS, NotificationsContract, type NotificationsApi } from '@contracts/notifications';
import { problem, ProblemError } from '../problem/problem';
import { RequestContexts } from '../request-context';
import { parseOr } from '../validation';
import { RunModeSettings, type RunMode } from '@infra/config';

export const MailboxQuery = z.strictObject(NotificationsContract.methods.mailbox.request.shape);

/**
 * What the shop mailed to an address, as Phoenix's dev mailbox shows it: in development the
 * confirmation link is read here. With NODE_ENV=production the route does not exist (the same
 * 404 as any unknown route), and notifications refuses the call too.
 */
@Controller()
export class DevMailboxController {
  constructor(
    @Inject(NOTIFICATIONS) private readonly notifications: NotificationsApi,
    private readonly contexts: RequestContexts,
    @Inject(RunModeSettings.token) private readonly mode: RunMode,
  ) {}

  @Get('dev/mailbox')
  mailbox(@Req() request: Request, @Query() query: unknown) {
    if (this.mode.production) {
      throw new ProblemError(problem(404, 'route-not-found', `no route ${request.method} ${request.path}`));
    }
    return this.notifications.mailbox(this.contexts.of(request), parseOr(MailboxQuery, query, 'query'));
  }
}
