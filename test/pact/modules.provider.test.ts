import { randomUUID } from 'node:crypto';
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import type { MessageDescriptor } from '@pact-foundation/pact';
import { CatalogContract } from '@contracts/catalog';
import {
  CustomerRegistered,
  EmailConfirmationRequested,
  IdentityContract,
  RegistrationAttempted,
} from '@contracts/identity';
import { StockReleased, StockReservationFailed, StockReserved } from '@contracts/inventory';
import { ALL_EVENTS } from '@contracts/contexts';
import { MODULES } from '@apps/service';
import { BOUNDED_CONTEXTS, type EventDefinition } from '@contracts/kernel';
import { OrderConfirmed, OrderCreated, OrderCreatedV2, OrderFailed, OrderingContract } from '@contracts/ordering';
import { PaymentCompleted, PaymentFailed, PaymentsContract } from '@contracts/payments';
import { ShipmentCreated } from '@contracts/shipping';
import { GrpcContractServer, grpcServiceOf, metadataOf } from '@infra/messaging/grpc';
import { declaredContexts } from '@infra/runtime';
import { CatalogModule } from '@modules/catalog';
import { IdentityModule } from '@modules/identity';
import { InventoryModule } from '@modules/inventory';
import { NotificationsModule } from '@modules/notifications';
import { OrderingModule } from '@modules/ordering';
import { PaymentsModule } from '@modules/payments';
import { ShippingModule } from '@modules/shipping';
import { eventually } from '../support/eventually';
import { asCustomer, callContext, startModule, type ModuleUnderTest } from '../support/module-harness';
import { asAdmin } from '../support/test-database';
import { describeEvent } from './support/consumed-events';
import { GET_PRODUCTS } from './support/contract-methods';
import { committedPactsOf, participant } from './support/pact-files';
import { producedEvent, verifyPacts } from './support/verify';

/**
 * The modules as providers: each verifies every committed pact that names it, and every message
 * it hands the verifier was built by its own production code. The whole shop runs (without the
 * HTTP edge) on a fresh database; three orders (confirmed, declined, out of stock) and one sign-up
 * make the saga write every integration event into the producing context's outbox (ordering's
 * event store), and the producers read them back from there: the event a consumer would receive,
 * built by the command handler or aggregate that really builds it. The catalog's contract method
 * is served over real gRPC (GrpcContractServer, the generated codecs) and answered by the catalog
 * module on its database.
 */

let shop: ModuleUnderTest;
let grpc: GrpcContractServer;
let grpcClient: Client;
const orders = { confirmed: '', declined: '', outOfStock: '', placedAsTheReleasedEdgeDoes: '' };
let customerId = '';

beforeAll(async () => {
  shop = await startModule(
    'pact_providers',
    [
      CatalogModule,
      InventoryModule,
      OrderingModule,
      PaymentsModule,
      ShippingModule,
      IdentityModule,
      NotificationsModule,
    ],
    [],
    { consumerRetry: { maxAttempts: 8, initialDelayMs: 10, maxDelayMs: 100 } },
  );
  grpc = new GrpcContractServer(shop.bus.inProcess, { host: '127.0.0.1', port: 0 });
  grpc.expose(CatalogContract);
  grpcClient = new Client(`127.0.0.1:${await grpc.listen()}`, credentials.createInsecure());

  const email = `pact-${randomUUID().slice(0, 8)}@example.com`;
  ({ customerId } = await shop
    .client(IdentityContract)
    .register(callContext(), { email, password: 'correct horse battery' }));
  // Confirmed (as its link would), then registered again: identity tells the owner (registration-attempted).
  await asAdmin(shop.database, 'UPDATE identity.customers SET email_confirmed_at = now() WHERE customer_id = $1', [
    customerId,
  ]);
  await shop.client(IdentityContract).register(callContext(), { email, password: 'another password here' });
  // As the edge places an order: the card held by payments, the order paid with its id.
  const place = async (quantity: number, paymentToken: string) => {
    const held = await shop.client(PaymentsContract).holdPaymentMethod(asCustomer(customerId), { token: paymentToken });
    const order = { customerId, items: [{ sku: 'FICUS-LYRATA', quantity }], paymentMethodId: held.paymentMethodId };
    return (await shop.client(OrderingContract).placeOrderWithPaymentMethod(asCustomer(customerId), order)).orderId;
  };
  orders.confirmed = await place(1, 'tok_visa');
  orders.declined = await place(1, 'tok_decline');
  orders.outOfStock = await place(1_000, 'tok_visa');
  // As the released edge still does during the rollout: order-created v1 (ADR 0037).
  orders.placedAsTheReleasedEdgeDoes = (
    await shop.client(OrderingContract).placeOrder(asCustomer(customerId), {
      customerId,
      items: [{ sku: 'FICUS-LYRATA', quantity: 1 }],
      paymentToken: 'tok_visa',
    })
  ).orderId;
});

afterAll(async () => {
  grpcClient?.close();
  await grpc?.close();
  await shop?.close();
});

/** Which of the orders (or the sign-up) makes the provider write each event. */
const AGGREGATE_OF: Record<string, () => string> = {
  [describeEvent(CustomerRegistered)]: () => customerId,
  [describeEvent(EmailConfirmationRequested)]: () => customerId,
  [describeEvent(RegistrationAttempted)]: () => customerId,
  [describeEvent(OrderCreatedV2)]: () => orders.confirmed,
  [describeEvent(OrderCreated)]: () => orders.placedAsTheReleasedEdgeDoes,
  [describeEvent(OrderConfirmed)]: () => orders.confirmed,
  [describeEvent(OrderFailed)]: () => orders.declined,
  [describeEvent(StockReserved)]: () => orders.confirmed,
  [describeEvent(StockReservationFailed)]: () => orders.outOfStock,
  [describeEvent(StockReleased)]: () => orders.declined,
  [describeEvent(PaymentCompleted)]: () => orders.confirmed,
  [describeEvent(PaymentFailed)]: () => orders.declined,
  [describeEvent(ShipmentCreated)]: () => orders.confirmed,
};

/** The event as the provider wrote it into its outbox: type and version from the row, the payload as stored. */
async function fromOutbox(definition: EventDefinition) {
  const aggregateId = AGGREGATE_OF[describeEvent(definition)]();
  const table = definition.context === 'ordering' ? 'ordering.order_events' : `${definition.context}.outbox`;
  const [row] = await eventually(
    () =>
      asAdmin<{ type: string; version: number; payload: unknown }>(
        shop.database,
        `SELECT type, version, payload FROM ${table} WHERE aggregate_id = $1 AND type = $2 AND version = $3 ORDER BY seq LIMIT 1`,
        [aggregateId, definition.type, definition.version],
      ),
    { until: (rows) => rows.length === 1, what: `${describeEvent(definition)} in ${table}` },
  );
  return producedEvent(row.type, row.version, row.payload);
}

/** catalog.getProducts over gRPC: encoded, served by the catalog module, answered as decoded off the wire. */
function getProductsOverGrpc(descriptor: MessageDescriptor): Promise<unknown> {
  const service = grpcServiceOf(CatalogContract).getProducts;
  const ctx = callContext();
  return new Promise((resolve, reject) =>
    grpcClient.makeUnaryRequest(
      service.path,
      service.requestSerialize,
      service.responseDeserialize,
      descriptor.content,
      metadataOf(ctx),
      { deadline: ctx.deadline },
      (error: ServiceError | null, answer?: unknown) => (error ? reject(error) : resolve(answer)),
    ),
  );
}

const producers = Object.fromEntries(
  ALL_EVENTS.filter((e) => AGGREGATE_OF[describeEvent(e)]).map((e) => [describeEvent(e), () => fromOutbox(e)]),
);

/**
 * The providers: every context whose events another context consumes or whose contract another
 * calls, as the contexts declare it (a context nobody depends on has no consumer to verify).
 */
const PROVIDERS = BOUNDED_CONTEXTS.filter((provider) =>
  [...declaredContexts()].some(
    ([consumer, declared]) =>
      consumer !== provider &&
      ((declared.consumes ?? []).some(([event]) => event.context === provider) ||
        (declared.uses ?? []).some((contract) => contract.context === provider)),
  ),
);

it('verifies the pacts of every context another depends on', () => {
  expect(Object.keys(MODULES).sort()).toEqual([...BOUNDED_CONTEXTS].sort()); // every module loaded, so declared
  expect(PROVIDERS).toEqual(expect.arrayContaining(['ordering', 'inventory', 'payments', 'catalog']));
});

describe.each(PROVIDERS)('ficus-%s verifies the pacts of its consumers', (provider) => {
  it('every interaction of every committed pact passes', async () => {
    const pactUrls = committedPactsOf(participant(provider));
    expect(pactUrls.length).toBeGreaterThan(0);
    const report = await verifyPacts({
      provider: participant(provider),
      pactUrls,
      messageProviders: { ...producers, [GET_PRODUCTS]: getProductsOverGrpc },
      stateHandlers: {
        'FICUS-LYRATA is in the catalogue': async () => {
          await shop.client(CatalogContract).getProduct(callContext(), { sku: 'FICUS-LYRATA' });
          return undefined;
        },
      },
    });
    expect(report).toBeTruthy();
  });
});

it('the events are not dead-lettered anywhere (the saga ran as in production)', async () => {
  await eventually(
    () =>
      asAdmin(shop.database, `SELECT 1 FROM ordering.order_events WHERE aggregate_id = $1 AND type = $2`, [
        orders.outOfStock,
        OrderFailed.type,
      ]),
    {
      until: (rows) => rows.length === 1,
    },
  );
  for (const context of ['inventory', 'ordering', 'payments', 'shipping', 'notifications']) {
    expect({
      context,
      deadLetters: await asAdmin(shop.database, `SELECT reason FROM ${context}.dead_letters`),
    }).toEqual({ context, deadLetters: [] });
  }
});
