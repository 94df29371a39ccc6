import type { CallContext, Contract } from '@contracts/kernel';

/**
 * How a contract call travels: in-process, or over the network. The bus picks one per contract
 * from the topology; module code only ever sees the contract's interface.
 */
export interface ContractTransport {
  readonly kind: string;
  unary(contract: Contract, method: string, ctx: CallContext, request: unknown): Promise<unknown>;
  serverStream(contract: Contract, method: string, ctx: CallContext, request: unknown): AsyncIterable<unknown>;
}

/** A contract's implementation as its module serves it: one function per contract method. */
export type ContractImplementation = Record<string, (ctx: CallContext, request: never) => unknown>;
