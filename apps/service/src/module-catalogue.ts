import type { Type } from '@nestjs/common';
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
