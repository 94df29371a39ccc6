import { randomUUID } from 'node:crypto';
import { CatalogContract } from '@contracts/catalog';
import { InventoryContract } from '@contracts/inventory';
import { ContractError, type CallContext, type Contract, type ContractApi } from '@contracts/kernel';
import { ContractBus } from '@infra/messaging';
import { GrpcContractServer, GrpcContractTransport } from '@infra/messaging/grpc';
import { CatalogModule } from '@modules/catalog';
import { InventoryModule } from '@modules/inventory';
import { asAdminUser, callContext, startModule, type ModuleUnderTest } from '../support/module-harness';

/**
 * One contract suite, two transports: the caller in the same process as inventory and catalog,
 * and the caller in "another process" reaching them over real gRPC on a loopback socket. Every
 * expectation must hold for both, errors included: that is what lets a module move by config.
 */
interface Callers {
  inventory: ContractApi<typeof InventoryContract>;
  catalog: ContractApi<typeof CatalogContract>;
}

type TransportSetUp = { name: string; callers: () => Callers };

describe('contracts over every transport', () => {
  let served: ModuleUnderTest;
  let server: GrpcContractServer;
  let remoteBus: ContractBus;
  const remotes: GrpcContractTransport[] = [];

  beforeAll(async () => {
    served = await startModule('transports', [CatalogModule, InventoryModule]);
    server = new GrpcContractServer(served.bus.inProcess, { host: '127.0.0.1', port: 0 });
    server.expose(InventoryContract);
    server.expose(CatalogContract);
    const port = await server.listen();
    remoteBus = new ContractBus();
    for (const contract of [InventoryContract, CatalogContract] as Contract[]) {
      const transport = new GrpcContractTransport({ address: `127.0.0.1:${port}` });
      remotes.push(transport);
      remoteBus.route(contract, transport);
    }
  });
  afterAll(async () => {
    remotes.forEach((r) => r.close());
    await server?.close();
    await served?.close();
  });

  /** Stock an admin adds, in the serving process: an end user crosses gRPC only as a verified token, and this server verifies none. */
  const restock = (request: { sku: string; quantity: number }) =>
    served.client(InventoryContract).restock(asAdminUser(), request);

  const transports: TransportSetUp[] = [
    // Called as ordering, whose saga steps reserving and releasing are: over gRPC the service travels as a claim, taken as it comes without TLS.
    {
      name: 'in-process',
      callers: () => ({
        inventory: served.client(InventoryContract, 'ordering'),
        catalog: served.client(CatalogContract, 'ordering'),
      }),
    },
    {
      name: 'gRPC',
      callers: () => ({
        inventory: remoteBus.client(InventoryContract, 'ordering'),
        catalog: remoteBus.client(CatalogContract, 'ordering'),
      }),
    },
  ];

  describe.each(transports)('$name', ({ name, callers }) => {
    const sku = () => `T-${name === 'gRPC' ? 'G' : 'L'}-${randomUUID().slice(0, 8).toUpperCase()}`;

    it('reserves all or nothing, once per order', async () => {
      const { inventory } = callers();
      const plenty = sku();
      const scarce = sku();
      await restock({ sku: plenty, quantity: 5 });
      await restock({ sku: scarce, quantity: 1 });
      const orderId = randomUUID();
      const items = [
        { sku: plenty, quantity: 2 },
        { sku: scarce, quantity: 2 },
      ];
      expect(await inventory.reserveStock(callContext(), { orderId, items })).toEqual({
        reserved: false,
        unavailableSkus: [scarce],
      });
      const ok = randomUUID();
      const first = await inventory.reserveStock(callContext(), { orderId: ok, items: [{ sku: plenty, quantity: 2 }] });
      const again = await inventory.reserveStock(callContext(), { orderId: ok, items: [{ sku: plenty, quantity: 2 }] });
      expect(first).toEqual({ reserved: true, unavailableSkus: [] });
      expect(again).toEqual(first);
      expect((await inventory.checkStock(callContext(), { skus: [plenty] })).levels).toEqual([
        { sku: plenty, available: 3, reserved: 2 },
      ]);
    });

    it('answers pages and lookups with the same shapes', async () => {
      const { catalog } = callers();
      const page = await catalog.listProducts(callContext(), { page: 1, pageSize: 3 });
      expect(page).toMatchObject({ page: 1, pageSize: 3, total: 8 });
      expect(page.items).toHaveLength(3);
      const lookup = await catalog.getProducts(callContext(), { skus: ['FICUS-LYRATA', 'NOPE-1'] });
      expect(lookup).toEqual({
        products: [{ sku: 'FICUS-LYRATA', name: 'Fiddle-leaf fig', price: { amountMinor: 3_900, currency: 'EUR' } }],
        missingSkus: ['NOPE-1'],
      });
    });

    it('raises the same typed errors', async () => {
      const { catalog, inventory } = callers();
      const notFound = await catalog.getProduct(callContext(), { sku: 'NOPE-1' }).catch((e: unknown) => e);
      expect(notFound).toBeInstanceOf(ContractError);
      expect(notFound).toMatchObject({
        kind: 'not-found',
        code: 'unknown-sku',
        message: 'no product has sku NOPE-1',
        details: { sku: 'NOPE-1' },
      });

      const invalid = await inventory
        .reserveStock(callContext(), { orderId: 'nope', items: [] })
        .catch((e: unknown) => e);
      expect(invalid).toMatchObject({ kind: 'invalid-argument', code: 'invalid-request' });
      expect((invalid as ContractError).details.issues).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ path: 'orderId' }),
          expect.objectContaining({ path: 'items' }),
        ]),
      );
    });

    it("gives up at the caller's deadline", async () => {
      const { inventory } = callers();
      const past: CallContext = { correlationId: 'late', deadline: Date.now() - 1 };
      await expect(inventory.checkStock(past, { skus: ['FICUS-LYRATA'] })).rejects.toMatchObject({
        kind: 'deadline-exceeded',
      });
    });

    it('streams current stock, then each change (WatchStock)', async () => {
      const { inventory } = callers();
      const watched = sku();
      await restock({ sku: watched, quantity: 4 });
      const stream = inventory.watchStock(callContext(), { skus: [watched] })[Symbol.asyncIterator]();
      expect((await stream.next()).value).toMatchObject({ sku: watched, available: 4, reserved: 0 });
      await inventory.reserveStock(callContext(), { orderId: randomUUID(), items: [{ sku: watched, quantity: 3 }] });
      expect((await stream.next()).value).toMatchObject({ sku: watched, available: 1, reserved: 3 });
      await stream.return?.();
    });
  });

  it("refuses text PostgreSQL cannot store in a request from another process, as the caller's mistake", async () => {
    const inventory = remoteBus.client(InventoryContract, 'ordering');
    // (An unpaired surrogate cannot cross: protobuf's UTF-8 carries it as U+FFFD, which is storable.)
    for (const reason of ['out of\u0000stock', '\u0000']) {
      const refused = await inventory
        .releaseStock(callContext(), { orderId: randomUUID(), reason })
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({ kind: 'invalid-argument', code: 'malformed-text' });
      expect((refused as ContractError).details.issues).toEqual([
        { path: 'request.reason', message: 'NUL or an unpaired surrogate' },
      ]);
    }
  });
});
