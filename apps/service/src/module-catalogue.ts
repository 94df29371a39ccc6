import type { Type } from '@nestjs/common';
import type { BoundedContext } from '@contracts/kernel';
import { CatalogModule } from '@modules/catalog';
import { IdentityModule } from '@modules/identity';
import { InventoryModule } from '@modules/inventory';
import { NotificationsModule } from '@modules/notifications';
import { OrderingModule } from '@modules/ordering';
import { PaymentsModule } from '@modules/payments';
import { ShippingModule } from '@modules/shipping';

/** Every bounded-context module, by the name topologies use: a context missing here does not compile. */
export const MODULES: { readonly [C in BoundedContext]: Type } = {
  catalog: CatalogModule,
  inventory: InventoryModule,
  ordering: OrderingModule,
  payments: PaymentsModule,
  shipping: ShippingModule,
  identity: IdentityModule,
  notifications: NotificationsModule,
};

/** The module of a context a topology places; a name it does not know is an error that says so. */
export function moduleOf(context: string): Type {
  const module = (MODULES as Readonly<Record<string, Type | undefined>>)[context];
  if (!module)
    throw new Error(
      `no bounded-context module is called "${context}"; the modules: ${Object.keys(MODULES).join(', ')}`,
    );
  return module;
}
