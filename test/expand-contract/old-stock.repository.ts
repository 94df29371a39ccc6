import { UnitOfWork } from '@infra/persistence';
import type { StockOnHand } from '../../modules/inventory/src/domain/reservation';

interface StockRow {
  sku: string;
  available: number;
  reserved: number;
}

/**
 * The release before AddStockOnHand1764000000202: inventory's StockRepository as it was, its
 * methods on `stock` unchanged (those on reservations did not change since). It knows only
 * `available`, the unreserved count, and must keep working while the next release runs beside it
 * on the expanded schema. Kept for test/expand-contract/stock-on-hand.test.ts; never in modules/.
 */
export class OldStockRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async levels(skus: readonly string[]): Promise<StockOnHand[]> {
    const rows = (await this.uow.manager.query(
      'SELECT sku, available, reserved FROM stock WHERE sku = ANY($1::text[]) ORDER BY sku',
      [[...skus]],
    )) as StockRow[];
    return rows.map((r) => ({ sku: r.sku, available: r.available, reserved: r.reserved }));
  }

  /** Locks the rows in sku order, so that concurrent reservations cannot deadlock. */
  async lockLevels(skus: readonly string[]): Promise<StockOnHand[]> {
    const rows = (await this.uow.manager.query(
      'SELECT sku, available, reserved FROM stock WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE',
      [[...skus]],
    )) as StockRow[];
    return rows.map((r) => ({ sku: r.sku, available: r.available, reserved: r.reserved }));
  }

  async save(levels: readonly StockOnHand[]): Promise<void> {
    for (const level of levels) {
      await this.uow.manager.query(
        `INSERT INTO stock (sku, available, reserved) VALUES ($1, $2, $3)
         ON CONFLICT (sku) DO UPDATE SET available = EXCLUDED.available, reserved = EXCLUDED.reserved, updated_at = now()`,
        [level.sku, level.available, level.reserved],
      );
    }
  }

  async addAvailable(sku: string, quantity: number): Promise<StockOnHand> {
    const [row] = (await this.uow.manager.query(
      `INSERT INTO stock (sku, available, reserved) VALUES ($1, $2, 0)
       ON CONFLICT (sku) DO UPDATE SET available = stock.available + EXCLUDED.available, updated_at = now()
       RETURNING sku, available, reserved`,
      [sku, quantity],
    )) as StockRow[];
    return row;
  }

  async isEmpty(): Promise<boolean> {
    const rows = (await this.uow.manager.query('SELECT 1 FROM stock LIMIT 1')) as unknown[];
    return rows.length === 0;
  }
}
