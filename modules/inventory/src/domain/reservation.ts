/** One line of a reservation: how many of a sku an order takes. */
export interface ReservationLine {
  readonly sku: string;
  readonly quantity: number;
}

export interface StockOnHand {
  readonly sku: string;
  readonly available: number;
  readonly reserved: number;
}

export type ReservationPlan =
  | { readonly kind: 'reserve'; readonly levels: readonly StockOnHand[] }
  | { readonly kind: 'reject'; readonly unavailableSkus: readonly string[] };

/** Lines of the same sku added together, in sku order (the order rows are locked in). */
export function mergeLines(lines: readonly ReservationLine[]): ReservationLine[] {
  const bySku = new Map<string, number>();
  for (const line of lines) {
    if (!Number.isInteger(line.quantity) || line.quantity <= 0) {
      throw new RangeError(`quantity of ${line.sku} must be a whole number above 0`);
    }
    bySku.set(line.sku, (bySku.get(line.sku) ?? 0) + line.quantity);
  }
  return [...bySku.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([sku, quantity]) => ({ sku, quantity }));
}

/**
 * All or nothing: an order's lines are reserved only if every sku has enough available stock;
 * otherwise nothing is taken and the short skus are named. Stock never goes below zero.
 */
export function planReservation(lines: readonly ReservationLine[], onHand: readonly StockOnHand[]): ReservationPlan {
  const stock = new Map(onHand.map((level) => [level.sku, level]));
  const merged = mergeLines(lines);
  const unavailableSkus = merged
    .filter((line) => (stock.get(line.sku)?.available ?? 0) < line.quantity)
    .map((line) => line.sku);
  if (unavailableSkus.length > 0) {
    return { kind: 'reject', unavailableSkus };
  }
  return {
    kind: 'reserve',
    levels: merged.map((line) => {
      const level = stock.get(line.sku)!; // present: every line passed the check above
      return { sku: line.sku, available: level.available - line.quantity, reserved: level.reserved + line.quantity };
    }),
  };
}

/** What releasing a reservation gives back. */
export function planRelease(lines: readonly ReservationLine[], onHand: readonly StockOnHand[]): StockOnHand[] {
  const stock = new Map(onHand.map((level) => [level.sku, level]));
  return mergeLines(lines).map((line) => {
    const level = stock.get(line.sku) ?? { sku: line.sku, available: 0, reserved: line.quantity };
    return {
      sku: line.sku,
      available: level.available + line.quantity,
      reserved: Math.max(0, level.reserved - line.quantity),
    };
  });
}

/** What a confirmed order's reservation becomes: the goods leave, reserved goes down for good. */
export function planCommit(lines: readonly ReservationLine[], onHand: readonly StockOnHand[]): StockOnHand[] {
  const stock = new Map(onHand.map((level) => [level.sku, level]));
  return mergeLines(lines).map((line) => {
    const level = stock.get(line.sku) ?? { sku: line.sku, available: 0, reserved: line.quantity };
    return { sku: line.sku, available: level.available, reserved: Math.max(0, level.reserved - line.quantity) };
  });
}

/** The demo stock a first start seeds, for the demo catalogue's skus. */
export const DEMO_STOCK: readonly StockOnHand[] = [
  { sku: 'FICUS-LYRATA', available: 40, reserved: 0 },
  { sku: 'FICUS-ELASTICA', available: 40, reserved: 0 },
  { sku: 'FICUS-BENJAMINA', available: 40, reserved: 0 },
  { sku: 'FICUS-MICROCARPA', available: 15, reserved: 0 },
  { sku: 'FICUS-PUMILA', available: 60, reserved: 0 },
  { sku: 'TERRACOTTA-POT', available: 100, reserved: 0 },
  { sku: 'LIMITED-POT', available: 10, reserved: 0 },
  { sku: 'SOIL-MIX', available: 200, reserved: 0 },
];
