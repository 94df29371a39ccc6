import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_CONTRACTS } from '@contracts/contexts';
import { CatalogContract } from '@contracts/catalog';
import { InventoryContract } from '@contracts/inventory';
import { accessDeclarationProblem, type CallContext, type CallingService, type Contract } from '@contracts/kernel';
import { NotificationsContract } from '@contracts/notifications';
import { OrderingContract } from '@contracts/ordering';
import { PaymentsContract } from '@contracts/payments';
import { issueLocalCertificates } from '@infra/deploy/certs/local-ca';
import { ContractBus, InProcessContractTransport } from '@infra/messaging';
import { channelCredentialsOf, GrpcContractServer, GrpcContractTransport, loadGrpcTls } from '@infra/messaging/grpc';
import { InventoryModule } from '@modules/inventory';
import { NotificationsModule } from '@modules/notifications';
import { OrderingModule } from '@modules/ordering';
import { PaymentsModule } from '@modules/payments';
import { asAdminUser, asCustomer, callContext, startModule, type ModuleUnderTest } from '../support/module-harness';

/**
 * Issue 15, item 4: every contract method says who may call it (an end user with a role, the owner
 * of the resource, named services, or anyone), and the serving side holds it in one process and
 * behind gRPC alike. Before, inventory.restock, payments.getPayment, notifications.listNotifications
 * and ordering.rebuildOrderHistory ran for any caller without an end user.
 */
describe('who may call each contract method', () => {
  it('every method of every contract declares its callers', () => {
    const undeclared = ALL_CONTRACTS.flatMap((contract: Contract) =>
      Object.entries(contract.methods).flatMap(([method, definition]) => {
        const problem = accessDeclarationProblem(definition.access);
        return problem ? [`${contract.name}/${method}: ${problem}`] : [];
      }),
    );
    expect(undeclared).toEqual([]);
  });

  describe('in one process', () => {
    let shop: ModuleUnderTest;
    beforeAll(async () => {
      const catalog = {
        listProducts: jest.fn(),
        getProduct: jest.fn(),
        getProducts: async () => ({ products: [], missingSkus: [] }),
      };
      shop = await startModule(
        'method_access',
        [InventoryModule, PaymentsModule, NotificationsModule, OrderingModule],
        [[CatalogContract, catalog]],
      );
    });
    afterAll(() => shop?.close());

    /** The four methods the attack reached, each called by a service that is not among its callers, without an end user. */
    const calls: Array<[string, (from: CallingService | undefined, ctx: CallContext) => Promise<unknown>]> = [
      [
        'inventory.restock',
        (from, ctx) => shop.client(InventoryContract, from).restock(ctx, { sku: 'ACCESS-1', quantity: 1_000 }),
      ],
      [
        'payments.getPayment',
        (from, ctx) =>
          shop.client(PaymentsContract, from).getPayment(ctx, { orderId: '6f1c1d1e-0000-4000-8000-000000000001' }),
      ],
      [
        'notifications.listNotifications',
        (from, ctx) => shop.client(NotificationsContract, from).listNotifications(ctx, {}),
      ],
      ['ordering.rebuildOrderHistory', (from, ctx) => shop.client(OrderingContract, from).rebuildOrderHistory(ctx, {})],
    ];

    it.each(calls)('%s refuses a service that calls without an end user', async (_name, call) => {
      for (const from of [undefined, 'shipping', 'edge'] as const) {
        await expect(call(from, callContext())).rejects.toMatchObject({
          kind: 'unauthenticated',
          code: 'end-user-required',
        });
      }
    });

    it.each(calls)(
      '%s refuses a context that claims a service by hand: the client says who calls',
      async (_name, call) => {
        const forged = { ...callContext(), service: 'ordering' as const };
        await expect(call('shipping', forged)).rejects.toMatchObject({ kind: 'unauthenticated' });
      },
    );

    it('lets an admin restock and rebuild, and refuses a customer both', async () => {
      await expect(
        shop.client(InventoryContract, 'edge').restock(asAdminUser(), { sku: 'ACCESS-2', quantity: 3 }),
      ).resolves.toMatchObject({ available: 3 });
      await expect(
        shop.client(OrderingContract, 'edge').rebuildOrderHistory(asAdminUser(), {}),
      ).resolves.toHaveProperty('ordersProjected');
      const customer = asCustomer('c-1');
      await expect(
        shop.client(InventoryContract, 'edge').restock(customer, { sku: 'ACCESS-2', quantity: 3 }),
      ).rejects.toMatchObject({ kind: 'permission-denied' });
      await expect(shop.client(OrderingContract, 'edge').rebuildOrderHistory(customer, {})).rejects.toMatchObject({
        kind: 'permission-denied',
      });
    });

    it("gives a customer their own notifications only, and everyone's to an admin", async () => {
      const notifications = shop.client(NotificationsContract, 'edge');
      await expect(notifications.listNotifications(asCustomer('c-1'), { recipientId: 'c-1' })).resolves.toHaveProperty(
        'items',
      );
      await expect(notifications.listNotifications(asCustomer('c-1'), { recipientId: 'c-2' })).rejects.toMatchObject({
        kind: 'permission-denied',
      });
      await expect(notifications.listNotifications(asCustomer('c-1'), {})).rejects.toMatchObject({
        kind: 'permission-denied',
      });
      await expect(notifications.listNotifications(asAdminUser(), {})).resolves.toHaveProperty('total');
    });

    it("lets ordering alone take the saga's steps on inventory", async () => {
      const request = { orderId: '6f1c1d1e-0000-4000-8000-000000000002', reason: 'test' };
      await expect(shop.client(InventoryContract, 'ordering').releaseStock(callContext(), request)).resolves.toEqual({
        released: false,
      });
      for (const from of [undefined, 'payments', 'edge'] as const) {
        await expect(shop.client(InventoryContract, from).releaseStock(asAdminUser(), request)).rejects.toMatchObject({
          kind: 'permission-denied',
        });
      }
    });
  });

  describe('behind gRPC under mutual TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ficus-access-'));
    let server: GrpcContractServer;
    let address: string;
    const transports: GrpcContractTransport[] = [];
    /** A bus in a process whose certificate names `target`, calling as `from`. */
    const inventoryOf = (target: string, from: CallingService) => {
      const transport = new GrpcContractTransport({
        address,
        credentials: channelCredentialsOf(loadGrpcTls(dir, target)),
      });
      transports.push(transport);
      const bus = new ContractBus();
      bus.route(InventoryContract, transport);
      return bus.client(InventoryContract, from);
    };

    beforeAll(async () => {
      await issueLocalCertificates(dir, ['inventory-svc', 'ordering-svc', 'shipping-svc']);
      const local = new InProcessContractTransport();
      local.serve(
        InventoryContract,
        new Proxy({} as Record<string, unknown>, { get: () => async () => ({ released: true }) }) as never,
      );
      const hosts: Record<string, string> = { 'ordering-svc': 'ordering', 'shipping-svc': 'shipping' };
      server = new GrpcContractServer(local, {
        host: '127.0.0.1',
        port: 0,
        tls: loadGrpcTls(dir, 'inventory-svc'),
        authorize: () => true, // the topology's allow-list is not what this test is about
        vouch: (target, service) => target !== undefined && hosts[target] === service,
      });
      server.expose(InventoryContract);
      address = `127.0.0.1:${await server.listen()}`;
    });
    afterAll(async () => {
      transports.forEach((transport) => transport.close());
      await server.close(0);
      rmSync(dir, { recursive: true, force: true });
    });

    const release = { orderId: '6f1c1d1e-0000-4000-8000-000000000003', reason: 'test' };

    it('serves the service its certificate vouches for', async () => {
      await expect(inventoryOf('ordering-svc', 'ordering').releaseStock(callContext(), release)).resolves.toEqual({
        released: true,
      });
    });

    it('serves a claimed service its certificate does not host as no service: refused', async () => {
      await expect(inventoryOf('shipping-svc', 'ordering').releaseStock(callContext(), release)).rejects.toMatchObject({
        kind: 'permission-denied',
      });
      await expect(inventoryOf('shipping-svc', 'shipping').releaseStock(callContext(), release)).rejects.toMatchObject({
        kind: 'permission-denied',
      });
    });
  });
});
