/**
 * The bounded contexts of the shop: the names topologies place, each exactly once, and the
 * schemas, roles and topics are named after. A new context is added here and in its contract.
 */
export const BOUNDED_CONTEXTS = [
  'catalog',
  'inventory',
  'ordering',
  'payments',
  'shipping',
  'identity',
  'notifications',
] as const;

export type BoundedContext = (typeof BOUNDED_CONTEXTS)[number];
