import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as protobuf from 'protobufjs';
import { InventoryContract } from '@contracts/inventory';
import { lowerFirst, protoDrift } from '../support/proto-drift';

/**
 * inventory.proto is what the gRPC transport speaks; inventory.contract.ts is what modules code
 * against. Nothing generates one from the other, so this test is what keeps them the same shape:
 * the same methods, the same streaming, the same field names all the way down.
 */

const PROTO_PATH = join(__dirname, '../../contracts/inventory/inventory.proto');

const source = readFileSync(PROTO_PATH, 'utf8');

/** The proto source with one exact piece replaced; fails loudly if the piece is not there. */
function drifted(from: string, to: string): string {
  expect(source).toContain(from);
  return source.replace(from, to);
}

describe('inventory.proto and InventoryContract', () => {
  it('name the same service', () => {
    const root = protobuf.parse(source, { keepCase: true }).root;
    expect(() => root.lookupService(InventoryContract.name)).not.toThrow();
  });

  it('have the same rpcs, streaming and fields', () => {
    expect(protoDrift(source, InventoryContract)).toEqual([]);
  });

  it('cover every contract method with an rpc of the PascalCase name', () => {
    const root = protobuf.parse(source, { keepCase: true }).root;
    const rpcs = root.lookupService(InventoryContract.name).methodsArray.map((method) => method.name);
    expect(rpcs.map(lowerFirst).sort()).toEqual(Object.keys(InventoryContract.methods).sort());
    expect(rpcs).toContain('WatchStock');
  });
});

describe('protoDrift', () => {
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
