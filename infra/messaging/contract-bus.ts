import { Injectable } from '@nestjs/common';
import { ContractError, unavailable, type CallContext, type Contract, type ContractApi } from '@contracts/kernel';
import { contractCallDuration, contractCalls, inSpan, SpanKind } from '@infra/observability';
import type { ContractImplementation, ContractTransport } from './contract-transport';
import { InProcessContractTransport } from './in-process-contract.transport';

/**
 * The seam between modules. A module serves its contract here; a caller asks for a client of a
 * contract and gets an object with the contract's interface. Which transport carries a call is
 * decided per contract (the topology: served here → in-process, elsewhere → the remote transport
 * registered for it), never by the caller.
 */
@Injectable()
export class ContractBus {
  readonly inProcess = new InProcessContractTransport();
  private readonly remote = new Map<string, ContractTransport>();
  private readonly diverted = new Map<string, ContractTransport>();
  private readonly meters = new Map<string, { record(seconds: number): void }>();

  serve(contract: Contract, implementation: ContractImplementation): void {
    this.inProcess.serve(contract, implementation);
  }

  /** Routes a contract that this process does not serve to a remote transport. */
  route(contract: Contract, transport: ContractTransport): void {
    this.remote.set(contract.name, transport);
  }

  /**
   * Sends this process's own calls of a contract it serves through `transport` instead (which
   * holds the in-process path itself): a share shifted to another process during an extraction.
   * Calls that arrive from other processes are still served in-process.
   */
  divert(contract: Contract, transport: ContractTransport): void {
    this.diverted.set(contract.name, transport);
  }

  transportFor(contract: Contract): ContractTransport {
    const diverted = this.diverted.get(contract.name);
    if (diverted) {
      return diverted;
    }
    if (this.inProcess.serves(contract)) {
      return this.inProcess;
    }
    const remote = this.remote.get(contract.name);
    if (!remote) {
      throw unavailable('no-route', `no process serves ${contract.name} in this topology`);
    }
    return remote;
  }

  client<C extends Contract>(contract: C): ContractApi<C> {
    const client: Record<string, unknown> = {};
    for (const [method, definition] of Object.entries(contract.methods)) {
      client[method] =
        definition.kind === 'unary'
          ? (ctx: CallContext, request: unknown) => this.call(contract, method, ctx, request)
          : (ctx: CallContext, request: unknown) => this.lazyStream(contract, method, ctx, request);
    }
    return Object.freeze(client) as ContractApi<C>;
  }

  /**
   * One unary call, measured and traced alike whatever carries it: a client span (the serving
   * side adds its server span, in-process as over gRPC), its duration and its outcome.
   */
  private async call(contract: Contract, method: string, ctx: CallContext, request: unknown): Promise<unknown> {
    const transport = this.transportFor(contract);
    const remote = transport !== this.inProcess;
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await inSpan(
        `${contract.name}/${method}`,
        { kind: remote ? SpanKind.CLIENT : SpanKind.INTERNAL, parent: ctx.traceparent, attributes: { 'rpc.service': contract.name, 'rpc.method': method, 'ficus.transport': transport.kind } },
        (traceparent) => transport.unary(contract, method, { ...ctx, traceparent }, request),
      );
    } catch (error) {
      outcome = error instanceof ContractError ? error.kind : 'internal';
      throw error;
    } finally {
      this.meterOf(contract.name, method, outcome, remote ? 'remote' : 'in-process').record((performance.now() - started) / 1_000);
    }
  }

  /**
   * The labelled series of one contract method, looked up once: resolving labels on every call
   * costs more than the in-process call itself.
   */
  private meterOf(contract: string, method: string, outcome: string, transport: string): { record(seconds: number): void } {
    const key = `${contract}\u0000${method}\u0000${outcome}\u0000${transport}`;
    let meter = this.meters.get(key);
    if (!meter) {
      const calls = contractCalls.labels({ contract, method, outcome });
      const duration = contractCallDuration.labels({ contract, method, transport });
      meter = {
        record: (seconds) => {
          calls.inc();
          duration.observe(seconds);
        },
      };
      this.meters.set(key, meter);
    }
    return meter;
  }

  /** Like a unary call's rejected promise, a stream with no route fails when it is read, not when it is made. */
  private async *lazyStream(contract: Contract, method: string, ctx: CallContext, request: unknown): AsyncIterable<unknown> {
    yield* this.transportFor(contract).serverStream(contract, method, ctx, request);
  }
}
