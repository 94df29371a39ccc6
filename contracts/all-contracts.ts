import * as catalog from './catalog';
import { CatalogContract } from './catalog';
import * as identity from './identity';
import { IdentityContract } from './identity';
import * as inventory from './inventory';
import { InventoryContract } from './inventory';
import type { Contract, EventDefinition } from './kernel';
import * as notifications from './notifications';
import { NotificationsContract } from './notifications';
import * as ordering from './ordering';
import { OrderingContract } from './ordering';
import * as payments from './payments';
import { PaymentsContract } from './payments';
import * as shipping from './shipping';
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

function isEvent(value: unknown): value is EventDefinition {
  const candidate = value as Partial<EventDefinition> | null;
  return typeof candidate?.type === 'string' && typeof candidate.version === 'number' && typeof candidate.aggregateIdOf === 'function';
}

/** Every integration event of the system, as each context's contract package exports it. */
export const ALL_EVENTS: readonly EventDefinition[] = [catalog, inventory, ordering, payments, shipping, identity, notifications]
  .flatMap((exports) => Object.values(exports))
  .filter(isEvent);
