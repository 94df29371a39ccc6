import type { Request } from 'express';
import type { CatalogApi } from '@contracts/catalog';
import type { InventoryApi } from '@contracts/inventory';
import { unavailable } from '@contracts/kernel';
import type { OrderingApi, OrderView } from '@contracts/ordering';
import type { PaymentsApi } from '@contracts/payments';
import type { ShippingApi } from '@contracts/shipping';
import { LastKnownProductNames } from '../../apps/http-edge/src/fallbacks/product-names';
import { RequestContexts } from '../../apps/http-edge/src/request-context';
import { CatalogController } from '../../apps/http-edge/src/routes/catalog.controller';
import { OrdersController } from '../../apps/http-edge/src/routes/orders.controller';
import { OrderPlacement } from '../../apps/http-edge/src/routes/place-order';
import { RequestSettings } from '@apps/http-edge';

/** The edge's fallbacks, with its neighbours faked at their contracts: one up, then down. */
const product = { sku: 'FIG-A', name: 'Fig A', price: { amountMinor: 100, currency: 'EUR' } };
const down = () => Promise.reject(unavailable('circuit-open', 'down', { retryAfterSeconds: 30 }));

function fakes() {
  const state = { catalogUp: true, inventoryUp: true };
  const catalog = {
    listProducts: async () => (state.catalogUp ? { items: [product], page: 1, pageSize: 20, total: 1 } : down()),
    getProducts: async () => (state.catalogUp ? { products: [product], missingSkus: [] } : down()),
    getProduct: async () => product,
  } as unknown as CatalogApi;
  const inventory = {
    checkStock: async () => (state.inventoryUp ? { levels: [{ sku: 'FIG-A', available: 7, reserved: 0 }] } : down()),
  } as unknown as InventoryApi;
  const order: OrderView = {
    id: '6f1c1f0e-3b1a-4d8e-9a61-2f7b7c2a9d10',
    customerId: 'c-1',
    status: 'CONFIRMED',
    items: [{ sku: 'FIG-A', quantity: 1, unitPrice: product.price }],
    total: product.price,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    version: 5,
  };
  const ordering = { getOrder: async () => order } as unknown as OrderingApi;
  const payments = { getPayment: down } as unknown as PaymentsApi;
  const shipping = { getShipment: down } as unknown as ShippingApi;
  return { state, catalog, inventory, ordering, payments, shipping, order };
}

const request = { headers: {}, caller: { subject: 'c-1', roles: ['customer'] } } as unknown as Request;

describe('fallbacks at the edge', () => {
  it('a product page still comes when inventory is down, with stock "unknown"', async () => {
    const f = fakes();
    const controller = new CatalogController(
      f.catalog,
      f.inventory,
      new RequestContexts(RequestSettings.read({})),
      new LastKnownProductNames(),
    );
    expect((await controller.products(request, { withStock: 'true' })).items[0]).toMatchObject({
      stock: { available: 7 },
    });
    f.state.inventoryUp = false;
    expect((await controller.products(request, { withStock: 'true' })).items[0]).toMatchObject({
      sku: 'FIG-A',
      stock: 'unknown',
    });
    expect((await controller.products(request, {})).items[0]).not.toHaveProperty('stock');
  });

  it('order details show the last known product names when the catalogue is down, and say so', async () => {
    const f = fakes();
    const names = new LastKnownProductNames();
    const orders = new OrdersController(
      f.ordering,
      f.payments,
      f.shipping,
      f.catalog,
      new RequestContexts(RequestSettings.read({})),
      names,
      new OrderPlacement(f.payments, f.ordering),
    );
    const fresh = await orders.details(request as never, { id: f.order.id });
    expect(fresh.order.items[0].productName).toBe('Fig A');
    expect(fresh.payment).toEqual({ available: false, reason: 'circuit-open' });

    f.state.catalogUp = false;
    const degraded = await orders.details(request as never, { id: f.order.id });
    expect(degraded.order.items[0].productName).toBe('Fig A');
    expect(degraded.products).toEqual({ available: false, reason: 'circuit-open', fallback: 'last-known-names' });

    const forgetful = new OrdersController(
      f.ordering,
      f.payments,
      f.shipping,
      f.catalog,
      new RequestContexts(RequestSettings.read({})),
      new LastKnownProductNames(),
      new OrderPlacement(f.payments, f.ordering),
    );
    expect((await forgetful.details(request as never, { id: f.order.id })).order.items[0].productName).toBeNull();
  });
});
