import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CatalogContract } from '@contracts/catalog';
import { event, type EventDefinition } from '@contracts/kernel';
import { OrderConfirmed, OrderCreated, OrderCreatedV2, OrderFailed } from '@contracts/ordering';
import { grpcServiceOf } from '@infra/messaging/grpc';
import { describeEvent } from './support/consumed-events';
import { GET_PRODUCTS } from './support/contract-methods';
import { committedPactPath, compareWithCommitted, freshPactDir, pactFileName, participant } from './support/pact-files';
import { builtEvent, verifyPacts } from './support/verify';

/**
 * Breaking changes planted on purpose, each of which must fail a provider's verification of the
 * committed pacts (the HTTP one, a field the edge stops returning, is in http-edge.provider.test.ts
 * beside the running shop). The events are built the way a provider builds them, by the contract's
 * `event(...)` factory, here from a definition with the planted change: exactly what a developer
 * editing contracts/ordering would ship. Each break comes with its control: the same verification
 * with the real definition passes, so the failure is the break's and nothing else's.
 */

const customerId = '2b0c9e43-3a5e-4d8e-9a0c-6f1e2d3c4b5a';
const orderId = 'a3b1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const money = { amountMinor: 7_800, currency: 'EUR' };
const orderPayload = {
  orderId,
  customerId,
  items: [{ sku: 'FICUS-LYRATA', quantity: 2, unitPrice: { amountMinor: 3_900, currency: 'EUR' } }],
  total: money,
};
const orderCreatedPayload = { ...orderPayload, paymentMethodId: 'c0f1e2d3-4b5a-4968-8776-a5b4c3d2e1f0' };

/**
 * ordering as a provider of inventory's pact, with order-created v2 (what every order publishes)
 * built from `orderCreated`; v1, which inventory reads too during the rollout, as it is.
 */
function orderingFor(orderCreated: EventDefinition) {
  return {
    [describeEvent(OrderCreatedV2)]: () => builtEvent(orderCreated, orderCreatedPayload as never),
    [describeEvent(OrderCreated)]: () => builtEvent(OrderCreated, { ...orderPayload, paymentToken: 'tok_visa' }),
    [describeEvent(OrderConfirmed)]: () => builtEvent(OrderConfirmed, { orderId, customerId, total: money }),
    [describeEvent(OrderFailed)]: () => builtEvent(OrderFailed, { orderId, customerId, reason: 'payment-failed' }),
  };
}

const inventoryPact = [committedPactPath(participant('inventory'), participant('ordering'))];
const orderCreatedShape = (OrderCreatedV2.schema as z.ZodObject).shape;

describe('a planted break in an event fails the provider verification', () => {
  it("control: ordering as it is passes inventory's pact", async () => {
    await expect(
      verifyPacts({
        provider: participant('ordering'),
        pactUrls: inventoryPact,
        messageProviders: orderingFor(OrderCreatedV2),
      }),
    ).resolves.toBeTruthy();
  });

  it('an added field is no break: order-created with a new optional field still passes', async () => {
    const extended = event(
      OrderCreatedV2.type,
      OrderCreatedV2.version,
      (OrderCreatedV2.schema as z.ZodObject).extend({ giftNote: z.string().optional() }),
      (p) => String(p.orderId),
    );
    const messageProviders = {
      ...orderingFor(OrderCreatedV2),
      [describeEvent(OrderCreatedV2)]: () =>
        builtEvent(extended, { ...orderCreatedPayload, giftNote: 'Happy birthday' } as never),
    };
    await expect(
      verifyPacts({ provider: participant('ordering'), pactUrls: inventoryPact, messageProviders }),
    ).resolves.toBeTruthy();
  });

  it('order-created without "items" fails, naming the field', async () => {
    const { items: _removed, ...rest } = orderCreatedShape;
    const withoutItems = event(OrderCreatedV2.type, OrderCreatedV2.version, z.object(rest), (p) => String(p.orderId));
    const verification = verifyPacts({
      provider: participant('ordering'),
      pactUrls: inventoryPact,
      messageProviders: orderingFor(withoutItems),
    });
    await expect(verification).rejects.toThrow(/missing the following keys: items/);
  });

  it('order-created renamed to order-placed fails on the event type', async () => {
    const renamed = event('ordering.order-placed', OrderCreatedV2.version, OrderCreatedV2.schema, (p) => p.orderId);
    const verification = verifyPacts({
      provider: participant('ordering'),
      pactUrls: inventoryPact,
      messageProviders: orderingFor(renamed),
    });
    await expect(verification).rejects.toThrow(
      /Expected metadata key 'type' to have value '\\?"ordering\.order-created\\?"' but was '\\?"ordering\.order-placed/,
    );
  });
});

describe('a planted break in a contract method fails the provider verification', () => {
  const wire = grpcServiceOf(CatalogContract).getProducts;
  const catalogPact = [committedPactPath(participant('ordering'), participant('catalog'))];
  const answer = {
    products: [{ sku: 'FICUS-LYRATA', name: 'Fiddle-leaf fig', price: { amountMinor: 3_900, currency: 'EUR' } }],
    missingSkus: [],
  };
  /** The answer as ordering would decode it off the wire, after `change` on the decoded message. */
  const catalog = (change: (decoded: { products: Array<Record<string, unknown>> }) => void) => ({
    [GET_PRODUCTS]: () => {
      const decoded = wire.responseDeserialize(wire.responseSerialize(answer)) as {
        products: Array<Record<string, unknown>>;
      };
      change(decoded);
      return decoded;
    },
  });
  const stateHandlers = { 'FICUS-LYRATA is in the catalogue': async () => undefined };

  it("control: the answer as the wire carries it passes ordering's pact", async () => {
    await expect(
      verifyPacts({
        provider: participant('catalog'),
        pactUrls: catalogPact,
        messageProviders: catalog(() => undefined),
        stateHandlers,
      }),
    ).resolves.toBeTruthy();
  });

  it('getProducts answering products without "price" (its proto field removed) fails, naming the field', async () => {
    const verification = verifyPacts({
      provider: participant('catalog'),
      pactUrls: catalogPact,
      messageProviders: catalog((decoded) => decoded.products.forEach((p) => delete p.price)),
      stateHandlers,
    });
    await expect(verification).rejects.toThrow(/missing the following keys: price/);
  });
});

describe('a consumer change without its pact updated fails', () => {
  const out = freshPactDir('stale');
  afterAll(() => out.dispose());

  it('a pact that no longer matches what the consumer test writes is reported, with the difference', () => {
    const consumer = participant('shipping');
    const provider = participant('payments');
    const copy = join(out.dir, pactFileName(consumer, provider));
    cpSync(committedPactPath(consumer, provider), copy);
    expect(compareWithCommitted(out.dir, consumer, provider, { update: false })).toBe('');

    const pact = JSON.parse(readFileSync(copy, 'utf8')) as {
      interactions: Array<{ contents: { content: Record<string, unknown> } }>;
    };
    pact.interactions[0].contents.content.carrier = 'DHL'; // the consumer now asks for a field more
    writeFileSync(copy, JSON.stringify(pact));
    expect(compareWithCommitted(out.dir, consumer, provider, { update: false })).toMatch(
      /ficus-shipping-ficus-payments\.json is not what the consumer test expects now[\s\S]*carrier/,
    );
  });
});
