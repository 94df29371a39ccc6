import { graphql, GraphQLError, parse, subscribe } from 'graphql';
import { CatalogSubgraph } from '@contracts/catalog';
import { InventorySubgraph } from '@contracts/inventory';
import { FEDERATION_LINK } from '@contracts/kernel';
import { OrderingSubgraph } from '@contracts/ordering';
import {
  buildSubgraphSchema,
  composeSupergraph,
  inProcessSupergraph,
  SupergraphCompositionError,
} from '@infra/graphql';

const coded = () => new GraphQLError('coded', { extensions: { code: 'x', status: 400 } });

describe('the supergraph and its subgraphs', () => {
  it("composes the shop's subgraphs into one supergraph that joins Product across catalog and inventory", () => {
    const supergraph = composeSupergraph([CatalogSubgraph, InventorySubgraph, OrderingSubgraph]);
    expect(supergraph).toMatch(/CATALOG @join__graph\(name: "catalog"/);
    expect(supergraph).toMatch(/INVENTORY @join__graph\(name: "inventory"/);
    expect(supergraph).toMatch(/type Product[^{]*@join__type\(graph: CATALOG, key: "sku"\)/);
    expect(supergraph).toMatch(/type Product[^{]*@join__type\(graph: INVENTORY, key: "sku"\)/);
  });

  it('refuses subgraphs that do not compose, naming the conflict', () => {
    const money = (name: string) => ({
      name,
      typeDefs: `${FEDERATION_LINK}\ntype Money { amountMinor: Int! }\ntype Query { ${name}: Money }`,
    });
    expect(() => composeSupergraph([money('a'), money('b')])).toThrow(SupergraphCompositionError);
    expect(() => composeSupergraph([money('a'), money('b')])).toThrow(/Money\.amountMinor/);
  });

  it('answers _service with its SDL and _entities in the order asked, with one lookup per type for all keys', async () => {
    const lookups: string[][] = [];
    const schema = buildSubgraphSchema(
      CatalogSubgraph.typeDefs,
      {
        entities: {
          Product: async (keys) => {
            lookups.push(keys.map((key) => String(key.sku)));
            return keys.map((key) =>
              key.sku === 'NONE' ? null : { sku: key.sku, name: `name of ${String(key.sku)}` },
            );
          },
        },
      },
      coded,
    );
    const service = await graphql({ schema, source: '{ _service { sdl } }' });
    expect(service.data).toEqual({ _service: { sdl: CatalogSubgraph.typeDefs } });
    const entities = await graphql({
      schema,
      source: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { sku name } } }',
      variableValues: { r: ['B', 'NONE', 'A'].map((sku) => ({ __typename: 'Product', sku })) },
      contextValue: { ctx: {} },
    });
    expect(entities.data).toEqual({
      _entities: [{ sku: 'B', name: 'name of B' }, null, { sku: 'A', name: 'name of A' }],
    });
    expect(lookups).toEqual([['B', 'NONE', 'A']]);
  });

  it("joins another subgraph's fields afresh on every event of a subscription, never from an earlier event", async () => {
    const watch = {
      name: 'watch',
      typeDefs: `${FEDERATION_LINK}
type Thing @key(fields: "id") { id: ID! version: Int! }
type Query { thing(id: ID!): Thing }
type Subscription { thingUpdated(id: ID!): Thing! }`,
    };
    const extra = {
      name: 'extra',
      typeDefs: `${FEDERATION_LINK}
type Thing @key(fields: "id") { id: ID! reading: Int! }`,
    };
    let readings = 0;
    const schema = inProcessSupergraph([
      {
        ...watch,
        schema: buildSubgraphSchema(
          watch.typeDefs,
          {
            Query: { thing: (_, { id }: { id: string }) => ({ id, version: 0 }) },
            Subscription: {
              thingUpdated: async function* (_, { id }: { id: string }) {
                for (const version of [1, 2, 3]) yield { id, version };
              },
            },
            entities: { Thing: async (keys) => keys.map((key) => ({ id: key.id, version: 0 })) },
          },
          coded,
        ),
      },
      {
        ...extra,
        schema: buildSubgraphSchema(
          extra.typeDefs,
          { entities: { Thing: async (keys) => keys.map((key) => ({ id: key.id, reading: ++readings })) } },
          coded,
        ),
      },
    ]);
    const events = await subscribe({
      schema,
      document: parse('subscription { thingUpdated(id: "1") { version reading } }'),
      contextValue: { ctx: {} },
    });
    const seen: unknown[] = [];
    for await (const event of events as AsyncIterable<{ data?: unknown }>) seen.push(event.data);
    expect(seen).toEqual([1, 2, 3].map((n) => ({ thingUpdated: { version: n, reading: n } })));
  });
});
