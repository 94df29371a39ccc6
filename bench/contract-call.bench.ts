import { Injectable } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, CqrsModule, type ICommandHandler } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { z } from 'zod';
import { defineContract, unary, type CallContext, type ContractApi } from '@contracts/kernel';
import { ContractBus, whileCallerWaits } from '@infra/messaging';
import { checkRequest } from '@infra/messaging/request-check';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { startTracing } from '@infra/observability';
import { scaled } from './bench-scale';
import { line, nsPerOp, sideBySide, writeResult } from './measure';

/**
 * (1) An in-process contract call through the ficus bus (request schema check, deadline, answer
 * schema check, metrics, the module's adapter) against a plain @nestjs/cqrs CommandBus.execute of
 * the same handler, with tracing as shipped (and once more with every span recorded). Both
 * include the handler's own (tiny) work.
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
    // As a saga step is declared: a named service only, so the bench pays the access check.
    { idempotent: true, access: { services: ['ordering'] } },
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
  const client = bus.client(BenchContract, 'ordering');

  const request = {
    orderId: '6f1c1f0e-3b1a-4d8e-9a61-2f7b7c2a9d10',
    items: [
      { sku: 'FICUS-LYRATA', quantity: 2 },
      { sku: 'SOIL-MIX', quantity: 1 },
    ],
  };
  const ctx: CallContext = { correlationId: 'bench', deadline: Number.MAX_SAFE_INTEGER };
  const iterations = scaled(20_000, 2_000);
  const rounds = scaled(9, 3);
  const measure = async () => {
    // warm both paths up before measuring
    await nsPerOp(() => client.reserve(ctx, request), iterations / 4);
    await nsPerOp(() => commands.execute(new ReserveCommand(request.orderId, request.items)), iterations / 4);
    return sideBySide(
      () => nsPerOp(() => client.reserve({ ...ctx, deadline: Date.now() + 5_000 }, request), iterations),
      () => nsPerOp(() => commands.execute(new ReserveCommand(request.orderId, request.items)), iterations),
      rounds,
    );
  };
  // As shipped: tracing set up as `npm start` sets it, with no exporter configured (propagate
  // mode: no spans, trace ids carried). Then with an exporter taking every span.
  const shipped = startTracing('ficus-bench', {});
  const asShipped = await measure();
  // The parts ADR 0002 asks of every call, each alone: what no bus can leave out (ADR 0053).
  const answer = { reserved: true, lines: request.items.length };
  const definition = BenchContract.methods.reserve;
  const part = async (op: () => unknown) => {
    const run = async () => op();
    await nsPerOp(run, iterations / 4);
    const alone = await sideBySide(
      () => nsPerOp(run, iterations),
      () => nsPerOp(async () => undefined, iterations),
      rounds,
    );
    return Math.max(0, alone.a - alone.b); // less the loop's own await
  };
  const parts = {
    requestCheck: await part(() => checkRequest(definition.request, request, 'bench.v1.BenchService/reserve')),
    answerCheck: await part(() => definition.response.parse(answer)),
    deadline: await part(() => whileCallerWaits({ ...ctx, deadline: Date.now() + 5_000 }, 'bench', () => answer)),
  };
  await shipped?.shutdown();
  const exporting = startTracing('ficus-bench', {}, new DiscardingExporter());
  const withExporter = await measure();
  await exporting?.shutdown();
  await app.close();

  line('(1) in-process contract call vs @nestjs/cqrs CommandBus.execute of the same handler');
  line(`    as shipped (tracing on, no exporter: ids carried, no spans)`);
  line(`      ficus bus    ${(asShipped.a / 1_000).toFixed(2)} µs/call (median of ${rounds} rounds × ${iterations})`);
  line(`      CommandBus   ${(asShipped.b / 1_000).toFixed(2)} µs/call`);
  line(`      ratio        ${asShipped.ratio.toFixed(2)}×   (aim ≤ ${CONTRACT_CALL_AIM}×)`);
  const checks = parts.requestCheck + parts.answerCheck + parts.deadline;
  line(
    `      of it, alone: request check ${(parts.requestCheck / 1_000).toFixed(2)} µs, answer check ` +
      `${(parts.answerCheck / 1_000).toFixed(2)} µs, deadline ${(parts.deadline / 1_000).toFixed(2)} µs ` +
      `(together ${(checks / asShipped.b).toFixed(1)}× CommandBus: ADR 0053)`,
  );
  line(
    `    with an exporter taking every span: ficus bus ${(withExporter.a / 1_000).toFixed(2)} µs/call, ${withExporter.ratio.toFixed(2)}×`,
  );
  const figures = {
    ficusBusNsPerCall: Math.round(asShipped.a),
    commandBusNsPerCall: Math.round(asShipped.b),
    ratio: Number(asShipped.ratio.toFixed(3)),
    withExporter: { ficusBusNsPerCall: Math.round(withExporter.a), ratio: Number(withExporter.ratio.toFixed(3)) },
    aim: CONTRACT_CALL_AIM,
    partsAloneNs: {
      requestCheck: Math.round(parts.requestCheck),
      answerCheck: Math.round(parts.answerCheck),
      deadline: Math.round(parts.deadline),
    },
    rounds: { ficusBus: asShipped.roundsA.map(Math.round), commandBus: asShipped.roundsB.map(Math.round) },
  };
  writeResult('contract-call', figures);
  return figures;
}

/** What issue 14 asks: an in-process contract call at most this many times CommandBus.execute. */
export const CONTRACT_CALL_AIM = 2;

/** Takes spans and drops them: the cost of recording, without a collector's. */
class DiscardingExporter implements SpanExporter {
  export(_spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    done({ code: ExportResultCode.SUCCESS });
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
