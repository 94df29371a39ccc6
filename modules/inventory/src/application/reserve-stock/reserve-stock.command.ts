import { Command } from '@nestjs/cqrs';
import type { EventOrigin } from '@contracts/kernel';
import type { ReservationLine } from '../../domain/reservation';

export interface ReservationResult {
  readonly reserved: boolean;
  readonly unavailableSkus: string[];
}

export class ReserveStockCommand extends Command<ReservationResult> {
  constructor(
    readonly orderId: string,
    readonly lines: readonly ReservationLine[],
    readonly origin: EventOrigin,
  ) {
    super();
  }
}
