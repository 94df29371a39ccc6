import { z } from 'zod';
import type { Contract, EventDefinition } from '@contracts/kernel';

/** A JSON Schema as zod writes it: only the parts compatibility looks at. */
interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  [key: string]: unknown;
}

/** The wire shape of every message of the system, as a release leaves it. */
export interface SchemaSnapshot {
  /** By `<type>.v<version>`: the payload's schema. */
  readonly events: Record<string, JsonSchema>;
  /** By `<contract>/<method>`: request and response schemas. */
  readonly methods: Record<string, { request: JsonSchema; response: JsonSchema }>;
}

const toJson = (schema: z.ZodType) => z.toJSONSchema(schema, { unrepresentable: 'any', io: 'output' }) as JsonSchema;

export function snapshotOf(contracts: readonly Contract[], events: readonly EventDefinition[]): SchemaSnapshot {
  return {
    events: Object.fromEntries(
      events
        .map((e) => [`${e.type}.v${e.version}`, toJson(e.schema)])
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
    ),
    methods: Object.fromEntries(
      contracts
        .flatMap((c) =>
          Object.entries(c.methods).map(
            ([method, m]) =>
              [`${c.name}/${method}`, { request: toJson(m.request), response: toJson(m.response) }] as const,
          ),
        )
        .sort(([a], [b]) => a.localeCompare(b)),
    ),
  };
}

/**
 * What in `current` breaks a party that still speaks `released`. Messages flow both ways between
 * releases during a rolling deploy (an old producer to a new consumer and the reverse), so a
 * field may be added only as optional; a field, an event version or a method may not disappear;
 * a type may not change; an enum may not lose a value. A breaking change is a new version of the
 * event (`.v2`) served beside the old one.
 */
export function breakingChanges(released: SchemaSnapshot, current: SchemaSnapshot): string[] {
  const problems: string[] = [];
  for (const [key, schema] of Object.entries(released.events)) {
    const now = current.events[key];
    if (!now)
      problems.push(
        `event ${key} is gone: keep serving it while any consumer reads it (publish a new version beside it)`,
      );
    else compare(`event ${key}`, schema, now, problems);
  }
  for (const [key, { request, response }] of Object.entries(released.methods)) {
    const now = current.methods[key];
    if (!now) {
      problems.push(`method ${key} is gone: callers of the released version still call it`);
      continue;
    }
    compare(`${key} request`, request, now.request, problems);
    compare(`${key} response`, response, now.response, problems);
  }
  return problems;
}

function typeOf(schema: JsonSchema): string {
  if (schema.anyOf) return schema.anyOf.map(typeOf).sort().join('|');
  if (schema.enum) return 'enum';
  return Array.isArray(schema.type) ? [...schema.type].sort().join('|') : (schema.type ?? 'any');
}

function compare(where: string, before: JsonSchema, after: JsonSchema, problems: string[], path = ''): void {
  const at = path ? `${where}: field ${path}` : where;
  const [typeBefore, typeAfter] = [typeOf(before), typeOf(after)];
  if (typeBefore !== 'any' && typeBefore !== typeAfter) {
    problems.push(`${at} changed type from ${typeBefore} to ${typeAfter}`);
    return;
  }
  if (before.enum && after.enum) {
    const lost = before.enum.filter((value) => !after.enum!.includes(value));
    if (lost.length > 0) problems.push(`${at} lost enum value(s) ${lost.map((v) => JSON.stringify(v)).join(', ')}`);
  }
  if (before.items && after.items) compare(where, before.items, after.items, problems, `${path}[]`);
  if (before.properties) {
    const afterProperties = after.properties ?? {};
    for (const [name, property] of Object.entries(before.properties)) {
      const child = path ? `${path}.${name}` : name;
      if (!afterProperties[name]) {
        problems.push(`${where}: field ${child} was removed (or renamed)`);
        continue;
      }
      compare(where, property, afterProperties[name], problems, child);
    }
    const requiredBefore = new Set(before.required ?? []);
    const requiredAfter = new Set(after.required ?? []);
    for (const name of requiredBefore) {
      if (afterProperties[name] && !requiredAfter.has(name)) {
        const child = path ? `${path}.${name}` : name;
        problems.push(`${where}: field ${child} became optional (older parties rely on it being there)`);
      }
    }
    for (const name of after.required ?? []) {
      if (!requiredBefore.has(name)) {
        const child = path ? `${path}.${name}` : name;
        problems.push(
          `${where}: field ${child} is new and required; add it as optional (older parties do not send it)`,
        );
      }
    }
  }
}
