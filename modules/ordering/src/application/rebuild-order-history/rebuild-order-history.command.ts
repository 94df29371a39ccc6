import { Command } from '@nestjs/cqrs';

export class RebuildOrderHistoryCommand extends Command<{ ordersProjected: number }> {}
