import type { Type } from '@nestjs/common';
import { CatalogContract } from '@contracts/catalog';
import { IdentityContract } from '@contracts/identity';
import { InventoryContract } from '@contracts/inventory';
import type { Contract } from '@contracts/kernel';
import { NotificationsContract } from '@contracts/notifications';
import { OrderingContract } from '@contracts/ordering';
import { PaymentsContract } from '@contracts/payments';
import { ShippingContract } from '@contracts/shipping';
import { CatalogModule } from '@modules/catalog';
import { IdentityModule } from '@modules/identity';
import { InventoryModule } from '@modules/inventory';
import { NotificationsModule } from '@modules/notifications';
import { OrderingModule } from '@modules/ordering';
import { PaymentsModule } from '@modules/payments';
import { ShippingModule } from '@modules/shipping';

/** Every bounded-context module, by the name topologies use. */
export const MODULES: Readonly<Record<string, Type>> = {
  catalog: CatalogModule,
  inventory: InventoryModule,
  ordering: OrderingModule,
  payments: PaymentsModule,
  shipping: ShippingModule,
  identity: IdentityModule,
  notifications: NotificationsModule,
};

/** Every contract of the system: served where its module runs, routed everywhere else. */
export const CONTRACTS: readonly Contract[] = [
  CatalogContract,
  InventoryContract,
  OrderingContract,
  PaymentsContract,
  ShippingContract,
  IdentityContract,
  NotificationsContract,
];
