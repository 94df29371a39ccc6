import { Command } from '@nestjs/cqrs';

/** One sweep: fail the orders still PENDING that were placed before `placedBefore`. */
export class ExpireOverdueOrdersCommand extends Command<{ expired: string[] }> {
  constructor(
    readonly placedBefore: Date,
    readonly now: Date,
    readonly batchSize = 100,
  ) {
    super();
  }
}
