import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as protobuf from 'protobufjs';
import type { z } from 'zod';
import type { Contract } from '@contracts/kernel';
import { InventoryContract } from '@contracts/inventory';

/**
 * inventory.proto is what the gRPC transport speaks; inventory.contract.ts is what modules code
 * against. Nothing generates one from the other, so this test is what keeps them the same shape:
 * the same methods, the same streaming, the same field names all the way down.
 */

const PROTO_PATH = join(__dirname, '../../contracts/inventory/inventory.proto');

const camelCase = (snake: string): string => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const lowerFirst = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

/** zod 4 keeps a schema's kind in `def.type`; optional and default wrappers say nothing about shape. */
interface SchemaView {
  readonly def: { readonly type: string; readonly innerType?: SchemaView; readonly element?: SchemaView };
  readonly shape?: Record<string, SchemaView>;
}
function unwrap(schema: SchemaView): SchemaView {
  const wrappers = ['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional'];
  return wrappers.includes(schema.def.type) && schema.def.innerType ? unwrap(schema.def.innerType) : schema;
}

const SCALARS: Record<string, string> = {
  string: 'string',
  bool: 'boolean',
  int32: 'number',
  int64: 'number',
  uint32: 'number',
  uint64: 'number',
  sint32: 'number',
  sint64: 'number',
  double: 'number',
  float: 'number',
};

function compareMessage(message: protobuf.Type, schema: SchemaView, where: string): string[] {
  const object = unwrap(schema);
  if (object.def.type !== 'object' || !object.shape) {
    return [`${where}: proto message ${message.name} but zod ${object.def.type}`];
  }
  const drift: string[] = [];
  const protoFields = new Map(message.fieldsArray.map((field) => [camelCase(field.name), field]));
  const zodKeys = Object.keys(object.shape);
  for (const key of zodKeys) {
    if (!protoFields.has(key)) drift.push(`${where}.${key}: in the zod schema, not in proto ${message.name}`);
  }
  for (const [key, field] of protoFields) {
    const fieldSchema = object.shape[key];
    if (!fieldSchema) {
      drift.push(`${where}.${key}: in proto ${message.name} (${field.name}), not in the zod schema`);
      continue;
    }
    let value = unwrap(fieldSchema);
    if (field.repeated !== (value.def.type === 'array')) {
      drift.push(`${where}.${key}: repeated in proto is ${field.repeated}, zod is ${value.def.type}`);
      continue;
    }
    if (field.repeated) value = unwrap(value.def.element!);
    if (field.resolvedType instanceof protobuf.Type) {
      drift.push(...compareMessage(field.resolvedType, value, `${where}.${key}`));
    } else if (SCALARS[field.type] !== value.def.type) {
      drift.push(`${where}.${key}: proto ${field.type} but zod ${value.def.type}`);
    }
  }
  return drift;
}

/** Every way the service in `protoSource` and `contract` differ, as readable lines; none when they agree. */
function protoDrift(protoSource: string, contract: Contract): string[] {
  const root = protobuf.parse(protoSource, { keepCase: true }).root;
  root.resolveAll();
  const service = root.lookupService(contract.name);
  const drift: string[] = [];
  const protoMethods = new Map(service.methodsArray.map((method) => [lowerFirst(method.name), method]));
  for (const name of Object.keys(contract.methods)) {
    if (!protoMethods.has(name)) drift.push(`${name}: in the contract, not in the proto service`);
  }
  for (const [name, method] of protoMethods) {
    const definition = contract.methods[name];
    if (!definition) {
      drift.push(`${name}: rpc ${method.name} in the proto service, not in the contract`);
      continue;
    }
    const streams = definition.kind === 'server-stream';
    if (Boolean(method.responseStream) !== streams) {
      const protoStreams = Boolean(method.responseStream);
      drift.push(`${name}: proto response stream is ${protoStreams}, contract kind is ${definition.kind}`);
    }
    if (method.requestStream) drift.push(`${name}: proto streams requests, no contract kind does`);
    const asView = (schema: z.ZodType) => schema as unknown as SchemaView;
    drift.push(...compareMessage(method.resolvedRequestType!, asView(definition.request), `${name} request`));
    drift.push(...compareMessage(method.resolvedResponseType!, asView(definition.response), `${name} response`));
  }
  return drift;
}

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
