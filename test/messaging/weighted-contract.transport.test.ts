import { CatalogContract } from '@contracts/catalog';
import { InventoryContract } from '@contracts/inventory';
import type { CallContext } from '@contracts/kernel';
import { OrderingContract } from '@contracts/ordering';
import { InProcessContractTransport, WeightedContractTransport } from '@infra/messaging';
import { aggregateIdOf } from '@infra/extraction';
import { processMetrics } from '@infra/observability';
import { parseExposition } from '../support/metrics-scrape';

/** A version of the catalogue that names itself in every answer. */
function version(name: string) {
  const transport = new InProcessContractTransport();
  const product = { sku: 'FIG', name, price: { amountMinor: 100, currency: 'EUR' } };
  transport.serve(CatalogContract, {
    listProducts: async () => ({ items: [product], page: 1, pageSize: 1, total: 1 }),
    getProducts: async () => ({ products: [product], missingSkus: [] }),
    getProduct: async () => product,
  });
  return { name, transport };
}

const ctx = (subject?: string): CallContext => ({
  correlationId: 'weighted',
  deadline: Date.now() + 5_000,
  caller: subject ? { subject, roles: ['customer'] } : undefined,
});

/** Blue/green and canary between two versions of a target, as callers route them. */
describe('a weighted route between two versions of a target', () => {
  let percent = 0;
  const route = (target: string, sticky: boolean) =>
    new WeightedContractTransport({
      target,
      primary: version('stable'),
      secondary: version('canary'),
      percent: () => percent,
      stickyPerCaller: sticky,
    });
  const answeredBy = async (transport: WeightedContractTransport, context: CallContext) =>
    ((await transport.unary(CatalogContract, 'getProduct', context, { sku: 'FIG' })) as { name: string }).name;

  it('is blue/green at 0 and 100: every call to one version', async () => {
    const transport = route('blue-green', false);
    percent = 0;
    for (let i = 0; i < 50; i++) expect(await answeredBy(transport, ctx(`u${i}`))).toBe('stable');
    percent = 100;
    for (let i = 0; i < 50; i++) expect(await answeredBy(transport, ctx(`u${i}`))).toBe('canary');
  });

  it('places calls with no sticky key in exact proportion: every run, any window, within one call', async () => {
    const transport = route('exact-share', false);
    for (const share of [50, 10, 33]) {
      percent = share;
      const versions = [];
      for (let i = 0; i < 300; i++) versions.push(transport.versionFor(ctx()).name);
      const canary = versions.filter((name) => name === 'canary').length;
      expect({ share, canary: Math.abs(canary - 3 * share) <= 1 }).toEqual({ share, canary: true });
    }
  });

  it('sends the canary its share of calls, read at every call, and counts where each went', async () => {
    const transport = route('canary-share', false);
    percent = 20;
    const answers = await Promise.all(Array.from({ length: 4_000 }, () => answeredBy(transport, ctx())));
    const share = (answers.filter((a) => a === 'canary').length / answers.length) * 100;
    expect(share).toBeGreaterThan(17); // 20 % ± about 4.7 standard deviations
    expect(share).toBeLessThan(23);
    const samples = parseExposition(await processMetrics.metrics()).find('ficus_routed_calls_total', {
      target: 'canary-share',
      outcome: 'ok',
    });
    const counted = Object.fromEntries(samples.map((s) => [s.labels.version, s.value]));
    expect(counted).toEqual({
      stable: answers.filter((a) => a === 'stable').length,
      canary: answers.filter((a) => a === 'canary').length,
    });
  });

  it('keeps one end user on one version, and raising the share only moves users over', async () => {
    const transport = route('sticky', true);
    const users = Array.from({ length: 500 }, (_, i) => `customer-${i}`);
    percent = 10;
    const at10 = new Map<string, string>();
    for (const user of users) {
      const first = await answeredBy(transport, ctx(user));
      for (let again = 0; again < 3; again++) expect(await answeredBy(transport, ctx(user))).toBe(first);
      at10.set(user, first);
    }
    percent = 50;
    for (const user of users) {
      if (at10.get(user) === 'canary') expect(await answeredBy(transport, ctx(user))).toBe('canary');
    }
    const onCanaryAt10 = [...at10.values()].filter((v) => v === 'canary').length;
    expect(onCanaryAt10).toBeGreaterThan(25); // about 50 of 500
    expect(onCanaryAt10).toBeLessThan(80);
  });
});

describe('a shift sticky per aggregate (ficus shift --sticky)', () => {
  it('keeps every call about one aggregate on one copy, whoever makes it', async () => {
    const transport = new WeightedContractTransport({
      target: 'sticky-aggregate',
      primary: version('in-process'),
      secondary: version('extracted'),
      percent: () => 50,
      stickyPerCaller: false,
      stickyKey: (_ctx, contract, method, request) => aggregateIdOf(contract, method, request),
    });
    const copies = new Map<string, Set<string>>();
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 200; i++) {
        const sku = `SKU-${i}`;
        const answer = (await transport.unary(CatalogContract, 'getProduct', ctx(`anyone-${round}`), { sku })) as {
          name: string;
        };
        copies.set(sku, (copies.get(sku) ?? new Set()).add(answer.name));
      }
    }
    expect([...copies.values()].every((seen) => seen.size === 1)).toBe(true); // one copy per sku, every round
    const extracted = [...copies.values()].filter((seen) => seen.has('extracted')).length;
    expect(extracted).toBeGreaterThan(70); // about half of 200
    expect(extracted).toBeLessThan(130);
  });

  it('finds the aggregate a request is about as its method declares it, and none where it declares none', () => {
    expect(aggregateIdOf(OrderingContract, 'getOrder', { orderId: 'o-1' })).toBe('o-1');
    expect(aggregateIdOf(CatalogContract, 'getProduct', { sku: 'FIG' })).toBe('FIG');
    expect(aggregateIdOf(InventoryContract, 'checkStock', { skus: ['FIG', 'OAK'] })).toBe('FIG');
    expect(
      aggregateIdOf(OrderingContract, 'placeOrder', { customerId: 'c-1', items: [{ sku: 'OAK', quantity: 1 }] }),
    ).toBe('c-1');
    expect(aggregateIdOf(CatalogContract, 'listProducts', { page: 1 })).toBeUndefined();
    expect(aggregateIdOf(CatalogContract, 'getProduct', undefined)).toBeUndefined();
    expect(aggregateIdOf(CatalogContract, 'noSuchMethod', { sku: 'FIG' })).toBeUndefined();
  });
});
