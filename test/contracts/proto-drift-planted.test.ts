import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InventoryContract } from '@contracts/inventory';
import { protoDrift } from '../support/proto-drift';

/**
 * The drift check itself (test/support/proto-drift.ts), proven to fire on planted drifts of
 * inventory.proto: each context's .proto and contract are held together by
 * test/contracts/proto-drift.test.ts, which would pass forever with a checker that never fires.
 */

const PROTO_PATH = join(__dirname, '../../contracts/inventory/inventory.proto');

const source = readFileSync(PROTO_PATH, 'utf8');

/** The proto source with one exact piece replaced; fails loudly if the piece is not there. */
function drifted(from: string, to: string): string {
  expect(source).toContain(from);
  return source.replace(from, to);
}

describe('protoDrift, on planted drifts of inventory.proto', () => {
  it('reports a renamed response field', () => {
    const proto = drifted('repeated string unavailable_skus = 2;', 'repeated string missing_skus = 2;');
    expect(protoDrift(proto, InventoryContract)).toEqual([
      'reserveStock response.unavailableSkus: in the zod schema, not in proto ReserveStockResponse',
      'reserveStock response.missingSkus: in proto ReserveStockResponse (missing_skus), not in the zod schema',
    ]);
  });

  it('reports a renamed request field', () => {
    const proto = drifted('string order_id = 1;\n  string reason', 'string order_ref = 1;\n  string reason');
    expect(protoDrift(proto, InventoryContract)).toEqual([
      'releaseStock request.orderId: in the zod schema, not in proto ReleaseStockRequest',
      'releaseStock request.orderRef: in proto ReleaseStockRequest (order_ref), not in the zod schema',
    ]);
  });

  it('reports a field renamed in a nested message, wherever the message is used', () => {
    // The first `available` is StockLevel's (StockUpdate comes later in the file).
    const proto = drifted('int32 available = 2;', 'int32 on_hand = 2;');
    expect(protoDrift(proto, InventoryContract)).toEqual([
      'checkStock response.levels.available: in the zod schema, not in proto StockLevel',
      'checkStock response.levels.onHand: in proto StockLevel (on_hand), not in the zod schema',
      'restock response.available: in the zod schema, not in proto StockLevel',
      'restock response.onHand: in proto StockLevel (on_hand), not in the zod schema',
    ]);
  });

  it('reports a field added to a nested message', () => {
    const proto = drifted('message StockLine {\n', 'message StockLine {\n  string warehouse = 3;\n');
    expect(protoDrift(proto, InventoryContract)).toEqual([
      'reserveStock request.items.warehouse: in proto StockLine (warehouse), not in the zod schema',
    ]);
  });

  it('reports a lost stream and a renamed rpc', () => {
    const proto = drifted('returns (stream StockUpdate);', 'returns (StockUpdate);').replace(
      'rpc Restock(',
      'rpc Replenish(',
    );
    expect(protoDrift(proto, InventoryContract)).toEqual([
      'restock: in the contract, not in the proto service',
      'replenish: rpc Replenish in the proto service, not in the contract',
      'watchStock: proto response stream is false, contract kind is server-stream',
    ]);
  });

  it('reports a field that is repeated on one side only, and a scalar of another kind', () => {
    const proto = drifted('  bool released = 1;', '  repeated bool released = 1;').replace(
      'message RestockRequest {\n  string sku = 1;\n  int32 quantity = 2;',
      'message RestockRequest {\n  string sku = 1;\n  string quantity = 2;',
    );
    expect(protoDrift(proto, InventoryContract)).toEqual([
      'releaseStock response.released: repeated in proto is true, zod is boolean',
      'restock request.quantity: proto string but zod number',
    ]);
  });
});
