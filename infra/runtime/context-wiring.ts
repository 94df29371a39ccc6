import { Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Contract, ContractApi, Envelope, EventDefinition, PayloadOf } from '@contracts/kernel';
import { ContextRuntime } from './context-runtime';

/** The contract a context serves, and the provider of its module that implements it. */
export type Serving<C extends Contract = Contract> = readonly [contract: C, implementation: Type<ContractApi<C>>];

/** One event a context consumes, and the provider of its module that handles it. */
export type Consumption<E extends EventDefinition = EventDefinition> = readonly [event: E, handler: Type<HandlerOf<E>>];

/** A handler of `E` and of nothing narrower: its payload checked as a parameter, not bivariantly as a method's. */
interface HandlerOf<E extends EventDefinition> {
  handle: (payload: PayloadOf<E>, envelope: Envelope<PayloadOf<E>>) => Promise<void>;
}

/** Each pair's handler checked against its own event: `[[StockReserved, ChargePaymentOnStockReserved], …]`. */
export type Consumptions<T extends readonly EventDefinition[]> = {
  readonly [K in keyof T]: readonly [event: T[K], handler: Type<HandlerOf<T[K]>>];
};

/** What a context declares it serves and consumes, in `FicusModule.forContext`. */
export interface ContextDeclarations {
  readonly serves?: Serving;
  readonly consumes?: readonly Consumption[];
}

/**
 * Wires what a context declared, when its module initialises: the contract it serves, and an
 * inbox consumer per event it consumes. The implementation and the handlers are providers of
 * the context's own module (they need its repositories), found here by class.
 */
@Injectable()
export class ContextWiring implements OnModuleInit {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly modules: ModuleRef,
    private readonly declarations: ContextDeclarations,
  ) {}

  onModuleInit(): void {
    const { serves, consumes = [] } = this.declarations;
    if (serves) this.runtime.serve(serves[0], this.providerOf(serves[1], `serves ${serves[0].name}`));
    for (const [event, handler] of consumes) {
      this.runtime.consume(event, this.providerOf(handler, `consumes ${event.type} v${event.version}`));
    }
  }

  private providerOf<T>(type: Type<T>, what: string): T {
    try {
      return this.modules.get(type, { strict: false });
    } catch {
      throw new Error(
        `${this.runtime.context} ${what} with ${type.name}, which is no provider: add it to the providers of ` +
          `the ${this.runtime.context} module`,
      );
    }
  }
}
