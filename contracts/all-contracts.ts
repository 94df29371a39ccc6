import { CatalogContract } from './catalog';
import { IdentityContract } from './identity';
import { InventoryContract } from './inventory';
import type { Contract } from './kernel';
import { NotificationsContract } from './notifications';
import { OrderingContract } from './ordering';
import { PaymentsContract } from './payments';
import { ShippingContract } from './shipping';

/** Every contract of the system: what the edge calls, and what each process serves or routes. */
export const ALL_CONTRACTS: readonly Contract[] = [
  CatalogContract,
  InventoryContract,
  OrderingContract,
  PaymentsContract,
  ShippingContract,
  IdentityContract,
  NotificationsContract,
];
