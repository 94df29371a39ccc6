import { mergeLines, planCommit, planRelease, planReservation, type StockOnHand } from './reservation';

const level = (sku: string, available: number, reserved = 0): StockOnHand => ({ sku, available, reserved });

describe('mergeLines', () => {
  it('adds up lines of the same sku and sorts by sku', () => {
    expect(
      mergeLines([
        { sku: 'SOIL-MIX', quantity: 2 },
        { sku: 'FICUS-LYRATA', quantity: 1 },
        { sku: 'SOIL-MIX', quantity: 3 },
      ]),
    ).toEqual([
      { sku: 'FICUS-LYRATA', quantity: 1 },
      { sku: 'SOIL-MIX', quantity: 5 },
    ]);
  });

  it('returns nothing for no lines', () => {
    expect(mergeLines([])).toEqual([]);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a quantity of %p', (quantity) => {
    expect(() => mergeLines([{ sku: 'SOIL-MIX', quantity }])).toThrow(RangeError);
  });
});

describe('planReservation', () => {
  it('reserves every line when all skus have enough stock', () => {
    const plan = planReservation(
      [
        { sku: 'SOIL-MIX', quantity: 2 },
        { sku: 'FICUS-LYRATA', quantity: 3 },
      ],
      [level('FICUS-LYRATA', 3, 1), level('SOIL-MIX', 10, 0), level('TERRACOTTA-POT', 5)],
    );
    expect(plan).toEqual({
      kind: 'reserve',
      levels: [
        { sku: 'FICUS-LYRATA', available: 0, reserved: 4 },
        { sku: 'SOIL-MIX', available: 8, reserved: 2 },
      ],
    });
  });

  it('takes nothing when one sku is short, and names only the short skus', () => {
    const plan = planReservation(
      [
        { sku: 'SOIL-MIX', quantity: 2 },
        { sku: 'LIMITED-POT', quantity: 11 },
      ],
      [level('SOIL-MIX', 10), level('LIMITED-POT', 10)],
    );
    expect(plan).toEqual({ kind: 'reject', unavailableSkus: ['LIMITED-POT'] });
  });

  it('counts an unknown sku as unavailable', () => {
    const plan = planReservation(
      [
        { sku: 'NO-SUCH-SKU', quantity: 1 },
        { sku: 'SOIL-MIX', quantity: 1 },
      ],
      [level('SOIL-MIX', 10)],
    );
    expect(plan).toEqual({ kind: 'reject', unavailableSkus: ['NO-SUCH-SKU'] });
  });

  it('adds up duplicate lines of a sku before checking availability', () => {
    const lines = [
      { sku: 'LIMITED-POT', quantity: 6 },
      { sku: 'LIMITED-POT', quantity: 5 },
    ];
    // Each line alone fits in 10; together they do not.
    expect(planReservation(lines, [level('LIMITED-POT', 10)])).toEqual({
      kind: 'reject',
      unavailableSkus: ['LIMITED-POT'],
    });
    expect(planReservation(lines, [level('LIMITED-POT', 11)])).toEqual({
      kind: 'reserve',
      levels: [{ sku: 'LIMITED-POT', available: 0, reserved: 11 }],
    });
  });

  it('reserves exactly what is available, and never goes below zero', () => {
    expect(planReservation([{ sku: 'SOIL-MIX', quantity: 4 }], [level('SOIL-MIX', 4)])).toEqual({
      kind: 'reserve',
      levels: [{ sku: 'SOIL-MIX', available: 0, reserved: 4 }],
    });
    expect(planReservation([{ sku: 'SOIL-MIX', quantity: 5 }], [level('SOIL-MIX', 4)])).toEqual({
      kind: 'reject',
      unavailableSkus: ['SOIL-MIX'],
    });
  });

  it('never plans a negative level for any mix of lines', () => {
    const onHand = [level('A1', 3), level('B2', 0), level('C3', 7, 2)];
    const skus = ['A1', 'B2', 'C3', 'D4'];
    for (let seed = 0; seed < 200; seed += 1) {
      const lines = Array.from({ length: 1 + (seed % 4) }, (_, i) => ({
        sku: skus[(seed * 7 + i * 3) % skus.length],
        quantity: 1 + ((seed + i) % 5),
      }));
      const plan = planReservation(lines, onHand);
      if (plan.kind === 'reserve') {
        for (const planned of plan.levels) {
          expect(planned.available).toBeGreaterThanOrEqual(0);
          expect(planned.reserved).toBeGreaterThanOrEqual(0);
        }
      } else {
        expect(plan.unavailableSkus.length).toBeGreaterThan(0);
      }
    }
  });
});

describe('planRelease', () => {
  it('gives reserved stock back to available', () => {
    expect(
      planRelease(
        [
          { sku: 'SOIL-MIX', quantity: 2 },
          { sku: 'SOIL-MIX', quantity: 1 },
        ],
        [level('SOIL-MIX', 7, 3)],
      ),
    ).toEqual([{ sku: 'SOIL-MIX', available: 10, reserved: 0 }]);
  });

  it('never leaves reserved below zero', () => {
    expect(planRelease([{ sku: 'SOIL-MIX', quantity: 5 }], [level('SOIL-MIX', 0, 2)])).toEqual([
      { sku: 'SOIL-MIX', available: 5, reserved: 0 },
    ]);
  });

  it('treats a sku without a stock row as one holding the released quantity', () => {
    expect(planRelease([{ sku: 'NEW-SKU', quantity: 4 }], [])).toEqual([{ sku: 'NEW-SKU', available: 4, reserved: 0 }]);
  });

  it('is the inverse of a reservation', () => {
    const lines = [
      { sku: 'FICUS-LYRATA', quantity: 2 },
      { sku: 'SOIL-MIX', quantity: 3 },
    ];
    const before = [level('FICUS-LYRATA', 5, 1), level('SOIL-MIX', 9, 0)];
    const plan = planReservation(lines, before);
    if (plan.kind !== 'reserve') throw new Error('expected a reservation');
    expect(planRelease(lines, plan.levels)).toEqual(before);
  });
});

describe('planCommit', () => {
  it('takes the goods out of reserved and leaves available alone', () => {
    expect(
      planCommit(
        [
          { sku: 'SOIL-MIX', quantity: 2 },
          { sku: 'FICUS-LYRATA', quantity: 1 },
        ],
        [level('SOIL-MIX', 8, 2), level('FICUS-LYRATA', 4, 3)],
      ),
    ).toEqual([
      { sku: 'FICUS-LYRATA', available: 4, reserved: 2 },
      { sku: 'SOIL-MIX', available: 8, reserved: 0 },
    ]);
  });

  it('never leaves reserved below zero', () => {
    expect(planCommit([{ sku: 'SOIL-MIX', quantity: 5 }], [level('SOIL-MIX', 1, 2)])).toEqual([
      { sku: 'SOIL-MIX', available: 1, reserved: 0 },
    ]);
  });

  it('after a reservation, leaves available as reserved it and reserved as before', () => {
    const lines = [{ sku: 'SOIL-MIX', quantity: 3 }];
    const plan = planReservation(lines, [level('SOIL-MIX', 10, 1)]);
    if (plan.kind !== 'reserve') throw new Error('expected a reservation');
    expect(planCommit(lines, plan.levels)).toEqual([{ sku: 'SOIL-MIX', available: 7, reserved: 1 }]);
  });
});
