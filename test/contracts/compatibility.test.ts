import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ALL_CONTRACTS, ALL_EVENTS, ALL_SUBGRAPHS } from '@contracts/contexts';
import { event, type EventDefinition } from '@contracts/kernel';
import { OrderCreated, OrderFailed } from '@contracts/ordering';
import { PaymentsContract } from '@contracts/payments';
import {
  check,
  graphqlBreakingChanges,
  protoBreakingChanges,
  releasedSnapshot,
  RELEASED_DIR,
} from '@infra/compatibility/contracts-check';
import { breakingChanges, snapshotOf, type SchemaSnapshot } from '@infra/compatibility/schema-compatibility';

const released = JSON.parse(readFileSync(join(RELEASED_DIR, 'schemas.json'), 'utf8')) as SchemaSnapshot;

/** The system's schemas with one event replaced (or added, or taken away). */
function withEvents(change: (events: EventDefinition[]) => EventDefinition[]): SchemaSnapshot {
  return snapshotOf(ALL_CONTRACTS, change([...ALL_EVENTS]));
}
const replacing = (old: EventDefinition, next: EventDefinition) => (events: EventDefinition[]) =>
  events.map((e) => (e === old ? next : e));
const orderCreatedShape = (OrderCreated.schema as z.ZodObject).shape;

describe('contracts:check — nothing changes incompatibly with the released contracts', () => {
  it('the contracts as they are now are compatible with the last release (schemas and .proto files)', () => {
    expect(check(ALL_CONTRACTS, ALL_EVENTS, ALL_SUBGRAPHS, releasedSnapshot()!)).toEqual([]);
  });

  it('the GraphQL supergraph: a removed field, a new required argument and a removed enum value fail; additions pass', () => {
    const changed = (context: string, edit: (typeDefs: string) => string) =>
      ALL_SUBGRAPHS.map((subgraph) =>
        subgraph.name === context ? { ...subgraph, typeDefs: edit(subgraph.typeDefs) } : subgraph,
      );
    expect(graphqlBreakingChanges(changed('catalog', (sdl) => sdl.replace('  price: Money!\n', '')))).toEqual([
      'graphql FIELD_REMOVED: Product.price was removed.',
    ]);
    expect(
      graphqlBreakingChanges(
        changed('catalog', (sdl) => sdl.replace('product(sku: ID!)', 'product(sku: ID!, locale: String!)')),
      ),
    ).toEqual(['graphql REQUIRED_ARG_ADDED: A required arg locale on Query.product was added.']);
    expect(
      graphqlBreakingChanges(
        changed('shipping', (sdl) => sdl.replace(/\n\s*"""Its order failed[^\n]*\n\s*CANCELLED/, '')),
      ),
    ).toEqual(['graphql VALUE_REMOVED_FROM_ENUM: CANCELLED was removed from enum type ShipmentStatus.']);
    expect(
      graphqlBreakingChanges(
        changed('catalog', (sdl) => sdl.replace('  price: Money!\n', '  price: Money!\n  latinName: String\n')),
      ),
    ).toEqual([]);
  });

  it('a removed event field fails, naming the event and the field', () => {
    const { paymentToken: _removed, ...rest } = orderCreatedShape;
    const changed = withEvents(
      replacing(
        OrderCreated,
        event(OrderCreated.type, 1, z.object(rest), (p) => String(p.orderId)),
      ),
    );
    expect(breakingChanges(released, changed)).toEqual([
      'event ordering.order-created.v1: field paymentToken was removed (or renamed)',
    ]);
  });

  it('a changed type, a new required field and a field made optional fail; a new optional field passes', () => {
    const typeChanged = withEvents(
      replacing(
        OrderFailed,
        event(
          OrderFailed.type,
          1,
          z.object({ orderId: z.uuid(), customerId: z.string(), reason: z.number() }),
          (p) => p.orderId,
        ),
      ),
    );
    expect(breakingChanges(released, typeChanged)).toEqual([
      'event ordering.order-failed.v1: field reason changed type from string to number',
    ]);

    const newRequired = withEvents(
      replacing(
        OrderFailed,
        event(OrderFailed.type, 1, (OrderFailed.schema as z.ZodObject).extend({ code: z.string() }), (p) =>
          String(p.orderId),
        ),
      ),
    );
    expect(breakingChanges(released, newRequired)).toEqual([expect.stringContaining('field code is new and required')]);

    const madeOptional = withEvents(
      replacing(
        OrderFailed,
        event(
          OrderFailed.type,
          1,
          z.object({ orderId: z.uuid(), customerId: z.string(), reason: z.string().optional() }),
          (p) => p.orderId,
        ),
      ),
    );
    expect(breakingChanges(released, madeOptional)).toEqual([expect.stringContaining('field reason became optional')]);

    const newOptional = withEvents(
      replacing(
        OrderFailed,
        event(OrderFailed.type, 1, (OrderFailed.schema as z.ZodObject).extend({ code: z.string().optional() }), (p) =>
          String(p.orderId),
        ),
      ),
    );
    expect(breakingChanges(released, newOptional)).toEqual([]);
  });

  it('a renamed event (the old one no longer served) fails; a v2 beside the still-served v1 passes', () => {
    const renamed = withEvents(
      replacing(
        OrderFailed,
        event('ordering.order-rejected', 1, OrderFailed.schema, (p) => p.orderId),
      ),
    );
    expect(breakingChanges(released, renamed)).toEqual([
      expect.stringContaining('event ordering.order-failed.v1 is gone'),
    ]);

    const v2 = event(
      OrderFailed.type,
      2,
      z.object({ orderId: z.uuid(), customerId: z.string(), reason: z.object({ code: z.string() }) }),
      (p) => p.orderId,
    );
    expect(
      breakingChanges(
        released,
        withEvents((events) => [...events, v2]),
      ),
    ).toEqual([]);
  });

  it('a method that loses a response field or an enum value fails', () => {
    const current = snapshotOf(ALL_CONTRACTS, ALL_EVENTS);
    const getPayment = `${PaymentsContract.name}/getPayment`;
    const response = structuredClone(current.methods[getPayment].response) as {
      properties: Record<string, { enum?: string[] }>;
    };
    delete response.properties.amount;
    response.properties.status.enum = response.properties.status.enum!.filter((s) => s !== 'FAILED');
    const changed = {
      ...current,
      methods: { ...current.methods, [getPayment]: { ...current.methods[getPayment], response } },
    };
    expect(breakingChanges(released, changed).sort()).toEqual(
      [
        `${getPayment} response: field amount was removed (or renamed)`,
        `${getPayment} response: field status lost enum value(s) "FAILED"`,
      ].sort(),
    );
  });

  it('a .proto field whose number is reused for another type fails, naming the field', () => {
    const copy = mkdtempSync(join(tmpdir(), 'ficus-proto-change-'));
    try {
      cpSync(join(RELEASED_DIR, 'proto'), copy, { recursive: true });
      const file = join(copy, 'ordering', 'ordering.proto');
      const proto = readFileSync(file, 'utf8');
      const changed = proto.replace(/string status = 2;/, 'int32 status = 2;');
      expect(changed).not.toBe(proto);
      writeFileSync(file, changed);
      const problems = protoBreakingChanges(join(RELEASED_DIR, 'proto'), copy);
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.join('\n')).toMatch(/ordering\.proto.*"status"/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
