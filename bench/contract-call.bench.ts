import { Injectable } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, CqrsModule, type ICommandHandler } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { z } from 'zod';
import { defineContract, unary, type CallContext, type ContractApi } from '@contracts/kernel';
import { ContractBus } from '@infra/messaging';
import { line, nsPerOp, sideBySide, writeResult } from './measure';

/**
 * (1) An in-process contract call through the ficus bus (request schema check, deadline, answer
 * schema check, the module's adapter) against a plain @nestjs/cqrs CommandBus.execute of the
 * same handler. Both include the handler's own (tiny) work.
 */
class ReserveCommand extends Command<{ reserved: boolean; lines: number }> {
  constructor(
    readonly orderId: string,
    readonly items: ReadonlyArray<{ sku: string; quantity: number }>,
  ) {
    super();
  }
}

@CommandHandler(ReserveCommand)
class ReserveHandler implements ICommandHandler<ReserveCommand> {
  async execute(command: ReserveCommand) {
    return { reserved: true, lines: command.items.length };
  }
}

const BenchContract = defineContract('bench', 'bench.v1.BenchService', {
  reserve: unary(
    z.object({
      orderId: z.uuid(),
      items: z.array(z.object({ sku: z.string().min(1), quantity: z.number().int().positive() })).min(1),
    }),
    z.object({ reserved: z.boolean(), lines: z.number().int() }),
    { idempotent: true },
  ),
});

@Injectable()
class BenchAdapter implements ContractApi<typeof BenchContract> {
  constructor(private readonly commands: CommandBus) {}
  reserve(_ctx: CallContext, request: { orderId: string; items: Array<{ sku: string; quantity: number }> }) {
    return this.commands.execute(new ReserveCommand(request.orderId, request.items));
  }
}

export async function benchContractCall(): Promise<Record<string, unknown>> {
  const module = await Test.createTestingModule({
    imports: [CqrsModule.forRoot()],
    providers: [ReserveHandler, BenchAdapter],
  }).compile();
  const app = await module.init();
  const commands = app.get(CommandBus);
  const bus = new ContractBus();
  bus.serve(BenchContract, app.get(BenchAdapter));
  const client = bus.client(BenchContract);

  const request = {
    orderId: '6f1c1f0e-3b1a-4d8e-9a61-2f7b7c2a9d10',
    items: [
      { sku: 'FICUS-LYRATA', quantity: 2 },
      { sku: 'SOIL-MIX', quantity: 1 },
    ],
  };
  const ctx: CallContext = { correlationId: 'bench', deadline: Number.MAX_SAFE_INTEGER };
  const iterations = 20_000;
  // warm both paths up before measuring
  await nsPerOp(() => client.reserve(ctx, request), 5_000);
  await nsPerOp(() => commands.execute(new ReserveCommand(request.orderId, request.items)), 5_000);

  const result = await sideBySide(
    () => nsPerOp(() => client.reserve({ ...ctx, deadline: Date.now() + 5_000 }, request), iterations),
    () => nsPerOp(() => commands.execute(new ReserveCommand(request.orderId, request.items)), iterations),
    9,
  );
  await app.close();

  line('(1) in-process contract call vs @nestjs/cqrs CommandBus.execute of the same handler');
  line(`    ficus bus      ${(result.a / 1_000).toFixed(2)} µs/call (median of 9 rounds × ${iterations})`);
  line(`    CommandBus     ${(result.b / 1_000).toFixed(2)} µs/call`);
  line(`    ratio          ${result.ratio.toFixed(2)}×   (aim ≤ 3×)`);
  const figures = {
    ficusBusNsPerCall: Math.round(result.a),
    commandBusNsPerCall: Math.round(result.b),
    ratio: Number(result.ratio.toFixed(3)),
    aim: '≤ 3×',
    rounds: { ficusBus: result.roundsA.map(Math.round), commandBus: result.roundsB.map(Math.round) },
  };
  writeResult('contract-call', figures);
  return figures;
}
