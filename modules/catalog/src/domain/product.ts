import type { Money } from '@contracts/kernel';

/** A product of the catalogue. Prices are whole minor units; a product always has a name. */
export interface Product {
  readonly sku: string;
  readonly name: string;
  readonly price: Money;
}

export function describeProduct(sku: string, name: string, price: Money): Product {
  const trimmed = name.trim();
  if (trimmed.length === 0) {
    throw new RangeError(`product ${sku} needs a name`);
  }
  if (!Number.isInteger(price.amountMinor) || price.amountMinor <= 0) {
    throw new RangeError(`product ${sku} needs a positive price`);
  }
  return { sku, name: trimmed, price };
}

/** The small demo catalogue a first start seeds (inventory seeds stock for the same skus). */
export const DEMO_CATALOGUE: readonly Product[] = [
  describeProduct('FICUS-LYRATA', 'Fiddle-leaf fig', { amountMinor: 3_900, currency: 'EUR' }),
  describeProduct('FICUS-ELASTICA', 'Rubber plant', { amountMinor: 2_450, currency: 'EUR' }),
  describeProduct('FICUS-BENJAMINA', 'Weeping fig', { amountMinor: 2_990, currency: 'EUR' }),
  describeProduct('FICUS-MICROCARPA', 'Ginseng bonsai', { amountMinor: 4_500, currency: 'EUR' }),
  describeProduct('FICUS-PUMILA', 'Creeping fig', { amountMinor: 1_290, currency: 'EUR' }),
  describeProduct('TERRACOTTA-POT', 'Terracotta pot, 20 cm', { amountMinor: 900, currency: 'EUR' }),
  describeProduct('LIMITED-POT', 'Hand-thrown pot, limited edition', { amountMinor: 6_500, currency: 'EUR' }),
  describeProduct('SOIL-MIX', 'Fig soil mix, 5 l', { amountMinor: 750, currency: 'EUR' }),
];
