import { join } from 'node:path';
import * as protobuf from 'protobufjs';
import type { z } from 'zod';
import type { Contract } from '@contracts/kernel';

/**
 * Compares a contract's zod schemas with its .proto service: the same methods, the same
 * streaming, the same field names all the way down. The .proto is what the gRPC transport speaks;
 * the zod schemas are what modules code against.
 */

export const CONTRACTS_ROOT = join(__dirname, '../../contracts');

/** Loads a context's .proto with its imports resolved from contracts/ (google/* from protobufjs). */
export function loadContractProto(relativePath: string): protobuf.Root {
  const root = new protobuf.Root();
  loadInto(root, relativePath);
  root.resolveAll();
  return root;
}

const camelCase = (snake: string): string => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
export const lowerFirst = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

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

/** zod kinds a proto string carries: an enum's or a literal's value is a string on the wire. */
const STRINGLIKE = new Set(['enum', 'literal']);

export function compareMessage(message: protobuf.Type, schema: SchemaView, where: string): string[] {
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
    if (field.resolvedType instanceof protobuf.Type && field.resolvedType.fullName === '.google.protobuf.Struct') {
      // A free-form JSON object on the wire: a zod record or a loose object on the contract side.
      if (value.def.type !== 'record' && value.def.type !== 'object') {
        drift.push(`${where}.${key}: proto Struct but zod ${value.def.type}`);
      }
    } else if (field.resolvedType instanceof protobuf.Type) {
      drift.push(...compareMessage(field.resolvedType, value, `${where}.${key}`));
    } else if (!(
      SCALARS[field.type] === value.def.type ||
      (field.type === 'string' && STRINGLIKE.has(value.def.type))
    )) {
      drift.push(`${where}.${key}: proto ${field.type} but zod ${value.def.type}`);
    }
  }
  return drift;
}

/** Every way the service in `protoSource` and `contract` differ, as readable lines; none when they agree. */
export function protoDrift(protoSource: string, contract: Contract): string[] {
  const parsed = protobuf.parse(protoSource, { keepCase: true });
  // What it imports from the contracts (kernel/money.proto, kernel/subgraph.proto), as they are.
  for (const imported of parsed.imports ?? []) loadInto(parsed.root, imported);
  parsed.root.resolveAll();
  return serviceDrift(parsed.root, contract);
}

function loadInto(root: protobuf.Root, relativePath: string): void {
  root.resolvePath = (_origin, target) =>
    target.startsWith('google/') || target.startsWith(CONTRACTS_ROOT) ? target : join(CONTRACTS_ROOT, target);
  root.loadSync(relativePath, { keepCase: true });
}

/** Every way the service of `contract` in a loaded proto root and the contract differ. */
export function serviceDrift(root: protobuf.Root, contract: Contract): string[] {
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
