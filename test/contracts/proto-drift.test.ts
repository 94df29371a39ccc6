import { CatalogContract } from '@contracts/catalog';
import { IdentityContract } from '@contracts/identity';
import { InventoryContract } from '@contracts/inventory';
import type { Contract } from '@contracts/kernel';
import { NotificationsContract } from '@contracts/notifications';
import { OrderingContract } from '@contracts/ordering';
import { PaymentsContract } from '@contracts/payments';
import { ShippingContract } from '@contracts/shipping';
import { loadContractProto, serviceDrift } from '../support/proto-drift';

/** Every context's .proto (the source of truth on the wire) and its TypeScript contract agree. */
const CONTRACTS: Array<[string, Contract]> = [
  ['catalog/catalog.proto', CatalogContract],
  ['inventory/inventory.proto', InventoryContract],
  ['ordering/ordering.proto', OrderingContract],
  ['payments/payments.proto', PaymentsContract],
  ['shipping/shipping.proto', ShippingContract],
  ['identity/identity.proto', IdentityContract],
  ['notifications/notifications.proto', NotificationsContract],
];

describe.each(CONTRACTS)('%s', (proto, contract) => {
  it(`has the same rpcs, streaming and fields as ${contract.name}`, () => {
    expect(serviceDrift(loadContractProto(proto), contract)).toEqual([]);
  });

  it('is what the contract carries as its generated wire definition', () => {
    const root = loadContractProto(proto);
    const service = root.lookupService(contract.name);
    expect(contract.wire?.fullName).toBe(contract.name);
    expect(Object.values(contract.wire!.methods).map((m) => m.name).sort()).toEqual(
      service.methodsArray.map((m) => m.name).sort(),
    );
  });
});
