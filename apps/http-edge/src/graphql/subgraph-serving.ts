import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { CatalogContract } from '@contracts/catalog';
import { ALL_SUBGRAPHS } from '@contracts/contexts';
import { InventoryContract } from '@contracts/inventory';
import type { CallContext, Contract, ContractApi, SubgraphApi } from '@contracts/kernel';
import { NotificationsContract } from '@contracts/notifications';
import { OrderingContract } from '@contracts/ordering';
import { PaymentsContract } from '@contracts/payments';
import { ShippingContract } from '@contracts/shipping';
import { servedSubgraph } from '@infra/graphql';
import { ContractBus } from '@infra/messaging';
import { ContextRegistry } from '@infra/runtime';
import { servedShopSubgraph, type SubgraphApis } from './shop-subgraphs';

/**
 * Serves the subgraph of every context this process hosts through its subgraph contract, for the
 * planner of a gateway that runs elsewhere (split: each service answers its own subgraph's
 * queries, and its resolvers' contract calls stay in its process). A schema is built at its first
 * query: a process nobody asks (the monolith plans in-process) builds none.
 */
@Injectable()
export class SubgraphServing implements OnModuleInit {
  constructor(
    private readonly bus: ContractBus,
    private readonly contexts: ContextRegistry,
  ) {}

  onModuleInit(): void {
    const hosted = new Set(this.contexts.all().map((runtime) => runtime.context));
    for (const sdl of ALL_SUBGRAPHS.filter((subgraph) => hosted.has(subgraph.name))) {
      let execute: ReturnType<typeof servedSubgraph> | undefined;
      const implementation: SubgraphApi = {
        execute: (ctx, operation) => {
          execute ??= servedSubgraph(sdl.name, servedShopSubgraph(sdl, this.apis()).schema);
          return execute(ctx, operation);
        },
      };
      this.bus.serve(sdl.contract, implementation as never);
    }
  }

  /**
   * The contracts the resolvers call, straight to their implementations in this process, as a call
   * that arrives from another process is served (never diverted by a shift, nor counted among this
   * process's own calls), with the caller's context as it came: the edge's (only the edge may ask
   * a subgraph), on its end user's behalf.
   */
  private apis(): SubgraphApis {
    const local = this.bus.inProcess;
    const as = <C extends Contract>(contract: C): ContractApi<C> =>
      Object.fromEntries(
        Object.entries(contract.methods).map(([method, definition]) => [
          method,
          definition.kind === 'unary'
            ? (ctx: CallContext, request: unknown) => local.unary(contract, method, ctx, request)
            : (ctx: CallContext, request: unknown) => local.serverStream(contract, method, ctx, request),
        ]),
      ) as ContractApi<C>;
    return {
      catalog: as(CatalogContract),
      inventory: as(InventoryContract),
      ordering: as(OrderingContract),
      payments: as(PaymentsContract),
      shipping: as(ShippingContract),
      notifications: as(NotificationsContract),
    };
  }
}

/** The subgraphs of the contexts a process hosts, served to gateways elsewhere (every target imports it). */
@Module({ providers: [SubgraphServing] })
export class SubgraphServingModule {}
