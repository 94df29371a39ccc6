import { Injectable } from '@nestjs/common';
import type { Contract } from '@contracts/kernel';

/**
 * The contracts that something in this process holds a client of: what the process calls, as
 * opposed to everything the bus could route. Its gRPC peers are the targets serving these.
 */
@Injectable()
export class CalledContracts {
  private readonly contracts = new Set<Contract>();

  record(contract: Contract): void {
    this.contracts.add(contract);
  }

  has(contract: Contract): boolean {
    return this.contracts.has(contract);
  }
}
