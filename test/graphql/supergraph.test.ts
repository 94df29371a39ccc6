import { graphql, GraphQLError, parse, subscribe } from 'graphql';
import { CatalogSubgraph } from '@contracts/catalog';
import { InventorySubgraph } from '@contracts/inventory';
import { FEDERATION_LINK, isContractError, unavailable, type SubgraphApi } from '@contracts/kernel';
import { OrderingSubgraph } from '@contracts/ordering';
import {
  buildSubgraphSchema,
  composeSupergraph,
  inProcessSupergraph,
  MAX_KEYS_PER_REQUEST,
  plannedSupergraph,
  servedSubgraph,
  subgraphExecutor,
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

  describe('a subgraph served by another process (its subgraph contract)', () => {
    const shelf = {
      name: 'shelf',
      typeDefs: `${FEDERATION_LINK}
type Thing @key(fields: "id") { id: ID! name: String! }
type Query { thing(id: ID!): Thing }
type Mutation { rename(id: ID!, name: String!): Thing! }`,
    };
    const stock = {
      name: 'stock',
      typeDefs: `${FEDERATION_LINK}
type Thing @key(fields: "id") { id: ID! count: Int! secret: Int! }`,
    };
    const codedContractError = (error: unknown) =>
      isContractError(error)
        ? new GraphQLError(error.message, { extensions: { code: error.code, status: 503 } })
        : undefined;
    const shelfSchema = buildSubgraphSchema(
      shelf.typeDefs,
      {
        Query: { thing: (_, { id }: { id: string }) => ({ id, name: `thing ${id}` }) },
        Mutation: { rename: (_, { id, name }: { id: string; name: string }) => ({ id, name }) },
        entities: { Thing: async (keys) => keys.map((key) => ({ id: key.id, name: `thing ${String(key.id)}` })) },
      },
      codedContractError,
    );
    const stockSchema = buildSubgraphSchema(
      stock.typeDefs,
      {
        fields: {
          Thing: {
            secret: () => {
              throw new Error('connection string postgres://user:pw@db');
            },
          },
        },
        entities: { Thing: async (keys) => keys.map((key) => ({ id: key.id, count: Number(key.id) * 10 })) },
      },
      codedContractError,
    );
    const ctx = { correlationId: 'served', deadline: Date.now() + 60_000 };
    /** Both subgraphs "elsewhere": each asked through its served contract implementation, as JSON. */
    const supergraphAcross = (apis: Record<string, SubgraphApi>) =>
      plannedSupergraph(
        [
          { ...shelf, schema: shelfSchema },
          { ...stock, schema: stockSchema },
        ],
        ({ name, schema }) => subgraphExecutor(schema, () => apis[name], codedContractError),
      );
    const served = (name: string, schema: typeof shelfSchema, asked: string[]): SubgraphApi => {
      const execute = servedSubgraph(name, schema);
      return {
        execute: (ctx, operation) => {
          asked.push(operation.document.replace(/\s+/g, ' ').trim());
          return execute(ctx, operation);
        },
      };
    };

    it('plans a query across them: one query per subgraph, the answer as in one process', async () => {
      const asked: string[] = [];
      const schema = supergraphAcross({
        shelf: served('shelf', shelfSchema, asked),
        stock: served('stock', stockSchema, asked),
      });
      const source = '{ thing(id: "4") { id name count } }';
      const across = await graphql({ schema, source, contextValue: { ctx: {} } });
      expect(across).toEqual({ data: { thing: { id: '4', name: 'thing 4', count: 40 } } });
      expect(asked).toHaveLength(2);
      expect(asked[0]).toMatch(/thing\(id: \$id\)/);
      expect(asked[1]).toMatch(/_entities/);
    });

    it('masks what a served resolver throws (its message stays in its process), keeps coded errors', async () => {
      const schema = supergraphAcross({
        shelf: served('shelf', shelfSchema, []),
        stock: served('stock', stockSchema, []),
      });
      const answer = await graphql({ schema, source: '{ thing(id: "1") { name secret } }', contextValue: { ctx: {} } });
      expect(JSON.stringify(answer)).not.toMatch(/postgres/);
      expect(answer.errors?.map((error) => error.extensions)).toEqual([{ code: 'internal', status: 500 }]);
    });

    it("tells a subgraph out of reach by the contract's code, on its fields only", async () => {
      const down: SubgraphApi = { execute: () => Promise.reject(unavailable('no-route', 'stock is away')) };
      const schema = supergraphAcross({ shelf: served('shelf', shelfSchema, []), stock: down });
      const answer = await graphql({ schema, source: '{ thing(id: "2") { name count } }', contextValue: { ctx: {} } });
      expect(answer.data).toEqual({ thing: null }); // count is non-null: the error reaches up to thing
      expect(answer.errors?.map((error) => error.extensions)).toEqual([{ code: 'no-route', status: 503 }]);
    });

    it('runs mutations here, never through the contract; the served side refuses them too', async () => {
      const asked: string[] = [];
      const schema = supergraphAcross({
        shelf: served('shelf', shelfSchema, asked),
        stock: served('stock', stockSchema, asked),
      });
      const renamed = await graphql({
        schema,
        source: 'mutation { rename(id: "3", name: "fig") { name count } }',
        contextValue: { ctx: {} },
      });
      expect(renamed).toEqual({ data: { rename: { name: 'fig', count: 30 } } });
      expect(asked.filter((document) => document.startsWith('mutation'))).toEqual([]);
      const refused = await servedSubgraph('shelf', shelfSchema)(ctx, {
        document: 'mutation { rename(id: "3", name: "x") { name } }',
        variablesJson: '{}',
        operationName: '',
      });
      expect(JSON.parse(refused.resultJson)).toEqual({
        errors: [
          { message: expect.stringMatching(/cannot run/), extensions: { code: 'subgraph-mismatch', status: 502 } },
        ],
      });
      await expect(
        servedSubgraph('shelf', shelfSchema)(ctx, {
          document: '{ thing(id: "1") { id } }',
          variablesJson: '[1]',
          operationName: '',
        }),
      ).rejects.toMatchObject({ kind: 'invalid-argument' });
      const tooMany = {
        r: Array.from({ length: MAX_KEYS_PER_REQUEST + 1 }, (_, i) => ({ __typename: 'Thing', id: i })),
      };
      await expect(
        servedSubgraph('shelf', shelfSchema)(ctx, {
          document: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Thing { id } } }',
          variablesJson: JSON.stringify(tooMany),
          operationName: '',
        }),
      ).rejects.toMatchObject({ kind: 'invalid-argument', code: 'too-many-keys' });
    });

    it('tells a query planned over another version of a subgraph as subgraph-mismatch, 502, not the client', async () => {
      // The service still runs the stock subgraph without `secret`: the gateway already plans with it.
      const older = buildSubgraphSchema(
        stock.typeDefs.replace(' secret: Int!', ''),
        { entities: { Thing: async (keys) => keys.map((key) => ({ id: key.id, count: 1 })) } },
        codedContractError,
      );
      const schema = supergraphAcross({ shelf: served('shelf', shelfSchema, []), stock: served('stock', older, []) });
      const answer = await graphql({
        schema,
        source: '{ thing(id: "5") { name secret } a: thing(id: "6") { name } }',
        contextValue: { ctx: {} },
      });
      expect(answer.data).toEqual({ thing: null, a: { name: 'thing 6' } });
      expect(answer.errors?.map((error) => error.extensions)).toEqual([{ code: 'subgraph-mismatch', status: 502 }]);
      expect(JSON.stringify(answer)).not.toMatch(/Did you mean|Cannot query field/);
    });
  });
});
