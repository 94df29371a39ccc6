import { randomUUID } from 'node:crypto';
import { PactV4 } from '@pact-foundation/pact';
import { CatalogContract } from '@contracts/catalog';
import { MODULES } from '@apps/service';
import { BOUNDED_CONTEXTS, type Envelope, type EventDefinition } from '@contracts/kernel';
import { InboxConsumer } from '@infra/messaging';
import { grpcServiceOf } from '@infra/messaging/grpc';
import type { UnitOfWork } from '@infra/persistence';
import { declaredContexts } from '@infra/runtime';
import {
  CONSUMED_EVENTS,
  describeEvent,
  eventBody,
  eventMetadata,
  valuesAt,
  type ConsumedEvent,
} from './support/consumed-events';
import { compareWithCommitted, freshPactDir, participant } from './support/pact-files';
import { GET_PRODUCTS, getProductsExchange } from './support/contract-methods';

/**
 * The modules as consumers. Message pacts: every event a module consumes, fed through the same
 * InboxConsumer its runtime builds for it (version check, the contract's zod schema, poison
 * detection), with a handler that records what it was given. The inbox's database transaction is
 * replaced by an in-memory one: what is under test is the message, not PostgreSQL.
 * Synchronous-message pacts: the contract methods one module calls on another (ADR 0029),
 * through the wire codecs a gRPC call uses.
 */

const out = freshPactDir('modules');
afterAll(() => out.dispose());

/** A unit of work whose inbox always takes the message: one attempt, no database. */
function inMemoryUnitOfWork(): UnitOfWork {
  const manager = { query: async () => [{ inserted: 1 }] };
  return {
    manager,
    transaction: async <T>(work: (m: typeof manager) => Promise<T>) => work(manager),
  } as unknown as UnitOfWork;
}

function envelopeOf(definition: EventDefinition, metadata: Record<string, unknown>, payload: unknown): Envelope {
  const id = randomUUID();
  return {
    id,
    type: String(metadata.type),
    version: Number(metadata.version),
    occurredAt: new Date().toISOString(),
    aggregateId:
      (payload as { orderId?: string; customerId?: string }).orderId ??
      String((payload as { customerId?: string }).customerId),
    correlationId: id,
    payload,
  };
}

const pairs = new Map<string, ConsumedEvent[]>();
for (const consumed of CONSUMED_EVENTS) {
  const key = `${consumed.consumer}|${consumed.definition.context}`;
  pairs.set(key, [...(pairs.get(key) ?? []), consumed]);
}

describe.each(
  [...pairs.entries()].map(([key, events]) => ({ consumer: key.split('|')[0], provider: key.split('|')[1], events })),
)('$consumer consumes the events of $provider', ({ consumer, provider, events }) => {
  const pact = new PactV4({
    consumer: participant(consumer),
    provider: participant(provider),
    dir: out.dir,
    logLevel: 'error',
  });

  it.each(events.map((e) => ({ ...e, key: describeEvent(e.definition) })))(
    '$key passes its InboxConsumer and gives the handler what it reads',
    async ({ definition, reads }) => {
      await pact
        .addAsynchronousInteraction()
        .comment(
          `${consumer} parses the whole payload with the contract's schema; its handler reads ${reads.join(', ')}`,
        )
        .expectsToReceive(describeEvent(definition), (builder) => {
          builder.withJSONContent(eventBody(definition)).withMetadata(eventMetadata(definition));
        })
        .executeTest(async (message) => {
          const handled: unknown[] = [];
          const inbox = new InboxConsumer(
            consumer,
            definition,
            { handle: async (payload) => void handled.push(payload) },
            inMemoryUnitOfWork(),
          );
          const outcome = await inbox.deliver(
            envelopeOf(definition, message.metadata as Record<string, unknown>, message.contents.content),
          );
          expect(outcome).toEqual({ outcome: 'processed' });
          expect(handled).toHaveLength(1);
          for (const path of reads) {
            const values = valuesAt(handled[0], path);
            expect({ path, values }).toEqual({ path, values: expect.arrayContaining([expect.anything()]) });
            expect(values).not.toContain(undefined);
          }
        });
    },
  );

  it('the committed pact is the one this test writes', () => {
    expect(compareWithCommitted(out.dir, participant(consumer), participant(provider))).toBe('');
  });
});

describe('ordering calls catalog (a contract method, as a synchronous message)', () => {
  const pact = new PactV4({
    consumer: participant('ordering'),
    provider: participant('catalog'),
    dir: out.dir,
    logLevel: 'error',
  });

  it('getProducts: the request and the answer survive the gRPC wire codecs and the contract schemas', async () => {
    const { request, response } = getProductsExchange();
    await pact
      .addSynchronousInteraction(GET_PRODUCTS)
      .given('FICUS-LYRATA is in the catalogue')
      .comment('ordering prices order lines from products[].sku and products[].price and refuses missingSkus')
      .withRequest((builder) => {
        builder.withJSONContent(request);
      })
      .withResponse((builder) => {
        builder.withJSONContent(response);
      })
      .executeTest(async (message) => {
        const wire = grpcServiceOf(CatalogContract).getProducts;
        const method = CatalogContract.methods.getProducts;
        const sent = method.request.parse(jsonOf(message.Request.content));
        // What the serving side gets after the request crossed the wire (client encodes, server decodes).
        expect(wire.requestDeserialize(wire.requestSerialize(sent))).toEqual(sent);
        // What the calling side gets back: decoded from the wire, then held to the contract, as GrpcContractTransport does.
        const answered = method.response.parse(
          wire.responseDeserialize(wire.responseSerialize(jsonOf(message.Response[0].content))),
        );
        expect(answered.missingSkus).toEqual([]);
        const prices = new Map(answered.products.map((p) => [p.sku, p.price]));
        expect(prices.get('FICUS-LYRATA')).toEqual({
          amountMinor: expect.any(Number),
          currency: expect.stringMatching(/^[A-Z]{3}$/),
        });
      });
  });

  it('the committed pact is the one this test writes', () => {
    expect(compareWithCommitted(out.dir, participant('ordering'), participant('catalog'))).toBe('');
  });
});

describe('every event a module consumes has a message pact', () => {
  it('matches what each context declares it consumes (FicusModule.forContext consumes)', () => {
    expect(Object.keys(MODULES).sort()).toEqual([...BOUNDED_CONTEXTS].sort()); // every context module loaded
    const consumed = [...declaredContexts()].flatMap(([context, declaration]) =>
      (declaration.consumes ?? []).map(([event]) => `${context} <- ${describeEvent(event)}`),
    );
    expect(consumed.length).toBeGreaterThan(0);
    expect(CONSUMED_EVENTS.map((e) => `${e.consumer} <- ${describeEvent(e.definition)}`).sort()).toEqual(
      consumed.sort(),
    );
  });
});

function jsonOf(content: unknown): unknown {
  if (Buffer.isBuffer(content)) return JSON.parse(content.toString('utf8'));
  if (typeof content === 'string') return JSON.parse(content);
  return content;
}
