import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { CatalogContract } from '@contracts/catalog';
import { ALL_SUBGRAPHS } from '@contracts/contexts';
import { InventoryContract } from '@contracts/inventory';
import { subgraphContractOf, type Contract, type ContractApi } from '@contracts/kernel';
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
    for (const { name } of ALL_SUBGRAPHS.filter((subgraph) => hosted.has(subgraph.name))) {
      let execute: ReturnType<typeof servedSubgraph> | undefined;
      const implementation: ContractApi<ReturnType<typeof subgraphContractOf>> = {
        execute: (ctx, operation) => {
          execute ??= servedSubgraph(name, servedShopSubgraph(name, this.apis()).schema);
          return execute(ctx, operation);
        },
      };
      this.bus.serve(subgraphContractOf(name), implementation as never);
    }
  }

  /**
   * The contracts' clients the resolvers call, as the edge: only the edge may ask a subgraph
   * (its contract's access), so every query served here is the edge's, on its end user's behalf.
   */
  private apis(): SubgraphApis {
    const as = <C extends Contract>(contract: C) => this.bus.client(contract, 'edge');
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
