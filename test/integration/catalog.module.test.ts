import { CatalogContract } from '@contracts/catalog';
import { CatalogModule } from '@modules/catalog';
import { callContext, startModule, type ModuleUnderTest } from '../support/module-harness';
import { asAdmin } from '../support/test-database';

describe('catalog, alone on its database', () => {
  let catalog: ModuleUnderTest;
  const api = () => catalog.client(CatalogContract);

  beforeAll(async () => {
    catalog = await startModule('catalog', CatalogModule);
  });
  afterAll(() => catalog?.close());

  it('seeds the demo catalogue on a first start, and pages through it in sku order', async () => {
    const first = await api().listProducts(callContext(), { page: 1, pageSize: 3 });
    expect(first).toMatchObject({ page: 1, pageSize: 3, total: 8 });
    expect(first.items).toHaveLength(3);
    const all = await api().listProducts(callContext(), { page: 1, pageSize: 100 });
    expect(all.items.map((product) => product.sku)).toEqual([...all.items.map((product) => product.sku)].sort());
    const third = await api().listProducts(callContext(), { page: 3, pageSize: 3 });
    expect(third.items).toEqual(all.items.slice(6, 8));
  });

  it('answers a batch of skus with the products it has and names the ones it lacks', async () => {
    const answer = await api().getProducts(callContext(), { skus: ['FICUS-ELASTICA', 'NO-SUCH-FIG', 'SOIL-MIX'] });
    expect(answer.products.map((product) => [product.sku, product.name, product.price.amountMinor]).sort()).toEqual([
      ['FICUS-ELASTICA', 'Rubber plant', 2_450],
      ['SOIL-MIX', 'Fig soil mix, 5 l', 750],
    ]);
    expect(answer.missingSkus).toEqual(['NO-SUCH-FIG']);
  });

  it('answers one sku, or not-found with a stable code', async () => {
    expect(await api().getProduct(callContext(), { sku: 'FICUS-LYRATA' })).toMatchObject({ name: 'Fiddle-leaf fig' });
    await expect(api().getProduct(callContext(), { sku: 'NO-SUCH-FIG' })).rejects.toMatchObject({
      kind: 'not-found',
      code: 'unknown-sku',
    });
  });

  it('refuses a request outside the contract before the catalogue sees it', async () => {
    await expect(api().getProducts(callContext(), { skus: [] })).rejects.toMatchObject({ kind: 'invalid-argument' });
    await expect(api().listProducts(callContext(), { page: 0, pageSize: 3 })).rejects.toMatchObject({
      kind: 'invalid-argument',
    });
  });

  it('keeps its products in its own schema: the eight of the demo catalogue', async () => {
    const [{ n }] = await asAdmin<{ n: string }>(catalog.database, 'SELECT count(*) AS n FROM catalog.products');
    expect(Number(n)).toBe(8);
  });
});
