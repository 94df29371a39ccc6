import { DEMO_CATALOGUE, describeProduct } from './product';

describe('describeProduct', () => {
  it('trims the name and keeps sku and price', () => {
    expect(describeProduct('SOIL-MIX', '  Fig soil mix  ', { amountMinor: 750, currency: 'EUR' })).toEqual({
      sku: 'SOIL-MIX',
      name: 'Fig soil mix',
      price: { amountMinor: 750, currency: 'EUR' },
    });
  });

  it.each(['', '   '])('rejects the blank name %p', (name) => {
    expect(() => describeProduct('SOIL-MIX', name, { amountMinor: 750, currency: 'EUR' })).toThrow(RangeError);
  });

  it.each([0, -1, 7.5])('rejects the price %p', (amountMinor) => {
    expect(() => describeProduct('SOIL-MIX', 'Soil', { amountMinor, currency: 'EUR' })).toThrow(RangeError);
  });

  it('has a demo catalogue of distinct skus', () => {
    const skus = DEMO_CATALOGUE.map((product) => product.sku);
    expect(skus.length).toBeGreaterThan(0);
    expect(new Set(skus).size).toBe(skus.length);
  });
});
