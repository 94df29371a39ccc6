import { Injectable } from '@nestjs/common';
import { unavailable, type CallContext, type Contract, type ContractApi } from '@contracts/kernel';
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

  serve(contract: Contract, implementation: ContractImplementation): void {
    this.inProcess.serve(contract, implementation);
  }

  /** Routes a contract that this process does not serve to a remote transport. */
  route(contract: Contract, transport: ContractTransport): void {
    this.remote.set(contract.name, transport);
  }

  transportFor(contract: Contract): ContractTransport {
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
          ? (ctx: CallContext, request: unknown) => {
              try {
                return this.transportFor(contract).unary(contract, method, ctx, request);
              } catch (error) {
                return Promise.reject(error); // a missing route fails like any call: as a rejected promise
              }
            }
          : (ctx: CallContext, request: unknown) => this.lazyStream(contract, method, ctx, request);
    }
    return Object.freeze(client) as ContractApi<C>;
  }

  /** Like a unary call's rejected promise, a stream with no route fails when it is read, not when it is made. */
  private async *lazyStream(contract: Contract, method: string, ctx: CallContext, request: unknown): AsyncIterable<unknown> {
    yield* this.transportFor(contract).serverStream(contract, method, ctx, request);
  }
}
