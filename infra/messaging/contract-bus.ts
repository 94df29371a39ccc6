import { Injectable } from '@nestjs/common';
import {
  ContractError,
  unavailable,
  type CallContext,
  type CallingService,
  type Contract,
  type ContractApi,
} from '@contracts/kernel';
import { contractCallDuration, contractCalls, inSpan, SpanKind, tracingRecords } from '@infra/observability';
import type { ContractImplementation, ContractTransport } from './contract-transport';
import { InProcessContractTransport } from './in-process-contract.transport';

/** The call and duration series of one contract method over one kind of transport. */
interface Meters {
  record(outcome: string, seconds: number): void;
}

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

  /**
   * A client of `contract` for the service `from` (the calling module, the edge, the operator):
   * every call it makes says so in its context, whatever the context handed in claimed, and the
   * serving side checks the method's declared access against it (method-access.ts). A client
   * made without `from` calls as no service: only methods open to anyone or to its end user.
   */
  client<C extends Contract>(contract: C, from?: CallingService): ContractApi<C> {
    const client: Record<string, unknown> = {};
    const as = (ctx: CallContext): CallContext => (ctx.service === from ? ctx : { ...ctx, service: from });
    for (const [method, definition] of Object.entries(contract.methods)) {
      if (definition.kind === 'unary') {
        const meters = { local: this.metersOf(contract, method, false), remote: this.metersOf(contract, method, true) };
        client[method] = (ctx: CallContext, request: unknown) => this.call(contract, method, as(ctx), request, meters);
      } else {
        client[method] = (ctx: CallContext, request: unknown) => this.lazyStream(contract, method, as(ctx), request);
      }
    }
    return Object.freeze(client) as ContractApi<C>;
  }

  /**
   * One unary call, measured and traced alike whatever carries it: a client span when spans are
   * recorded (the serving side adds its server span, in-process as over gRPC), its duration and
   * its outcome.
   */
  private call(
    contract: Contract,
    method: string,
    ctx: CallContext,
    request: unknown,
    meters: { local: Meters; remote: Meters },
  ): Promise<unknown> {
    let transport: ContractTransport;
    try {
      transport = this.transportFor(contract);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const remote = transport !== this.inProcess;
    const meter = remote ? meters.remote : meters.local;
    const started = performance.now();
    const sent = tracingRecords()
      ? inSpan(
          `${contract.name}/${method}`,
          {
            kind: remote ? SpanKind.CLIENT : SpanKind.INTERNAL,
            parent: ctx.traceparent,
            attributes: { 'rpc.service': contract.name, 'rpc.method': method, 'ficus.transport': transport.kind },
          },
          (traceparent) => transport.unary(contract, method, { ...ctx, traceparent }, request),
        )
      : transport.unary(contract, method, ctx, request);
    return sent.then(
      (answer) => {
        meter.record('ok', (performance.now() - started) / 1_000);
        return answer;
      },
      (error: unknown) => {
        meter.record(error instanceof ContractError ? error.kind : 'internal', (performance.now() - started) / 1_000);
        throw error;
      },
    );
  }

  /**
   * The labelled series of one contract method, looked up once, when its client is made: resolving
   * labels on every call costs more than the in-process call itself.
   */
  private metersOf(contract: Contract, method: string, remote: boolean): Meters {
    const labels = { contract: contract.name, method };
    let duration: { observe(seconds: number): void } | undefined;
    let ok: { inc(): void } | undefined;
    const failures = new Map<string, { inc(): void }>();
    return {
      record: (outcome, seconds) => {
        duration ??= contractCallDuration.series({ ...labels, transport: remote ? 'remote' : 'in-process' });
        duration.observe(seconds);
        if (outcome === 'ok') {
          ok ??= contractCalls.series({ ...labels, outcome });
          ok.inc();
          return;
        }
        let calls = failures.get(outcome);
        if (!calls) {
          calls = contractCalls.series({ ...labels, outcome });
          failures.set(outcome, calls);
        }
        calls.inc();
      },
    };
  }

  /** Like a unary call's rejected promise, a stream with no route fails when it is read, not when it is made. */
  private async *lazyStream(
    contract: Contract,
    method: string,
    ctx: CallContext,
    request: unknown,
  ): AsyncIterable<unknown> {
    yield* this.transportFor(contract).serverStream(contract, method, ctx, request);
  }
}
