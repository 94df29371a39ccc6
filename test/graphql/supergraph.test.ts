import { graphql, GraphQLError } from 'graphql';
import { CatalogSubgraph } from '@contracts/catalog';
import { InventorySubgraph } from '@contracts/inventory';
import { FEDERATION_LINK } from '@contracts/kernel';
import { OrderingSubgraph } from '@contracts/ordering';
import { buildSubgraphSchema, composeSupergraph, SupergraphCompositionError } from '@infra/graphql';

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
});
