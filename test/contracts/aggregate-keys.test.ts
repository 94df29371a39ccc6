import { z } from 'zod';
import { ALL_CONTRACTS, ALL_EVENTS } from '@contracts/contexts';
import { aggregateFieldsOf, eventAggregateFieldsOf } from '@contracts/kernel';

/**
 * Infra speaks no business words (issue 16, item 6): logs and sticky shifts learn what a call or
 * an event is about from its declaration, never by guessing at field names. So every method whose
 * request names an order, a product or a customer declares its aggregate, and every event does.
 */

/** The request fields that name an aggregate of the shop, as its schemas spell them. */
const AGGREGATE_FIELDS = ['orderId', 'sku', 'skus', 'customerId', 'recipientId'];

describe('aggregate keys', () => {
  it('every method whose request names an order, a product or a customer declares which', () => {
    const undeclared = ALL_CONTRACTS.flatMap((contract) =>
      Object.entries(contract.methods).flatMap(([name, method]) => {
        const shape = method.request instanceof z.ZodObject ? Object.keys(method.request.shape) : [];
        return shape.some((field) => AGGREGATE_FIELDS.includes(field)) && !method.aggregate
          ? [`${contract.name}/${name}`]
          : [];
      }),
    );
    expect(undeclared).toEqual([]);
  });

  it('every event names the type of the aggregate it is keyed by', () => {
    expect(
      ALL_EVENTS.filter((definition) => !definition.aggregate).map(
        (definition) => `${definition.type} v${definition.version}`,
      ),
    ).toEqual([]);
  });

  it('gives log lines <type>_id from the declaration, and nothing for a method about no aggregate', () => {
    const ordering = ALL_CONTRACTS.find((contract) => contract.context === 'ordering')!;
    const catalog = ALL_CONTRACTS.find((contract) => contract.context === 'catalog')!;
    expect(aggregateFieldsOf(ordering.methods.getOrder, { orderId: 'o-1' })).toEqual({ order_id: 'o-1' });
    expect(aggregateFieldsOf(catalog.methods.getProducts, { skus: ['FIG', 'OAK'] })).toEqual({ product_id: 'FIG' });
    expect(aggregateFieldsOf(catalog.methods.listProducts, { page: 1, orderId: 'not read' })).toEqual({});
    const created = ALL_EVENTS.find(
      (definition) => definition.type === 'ordering.order-created' && definition.version === 2,
    )!;
    expect(eventAggregateFieldsOf(created, { aggregateId: 'o-2' })).toEqual({ order_id: 'o-2' });
  });
});
