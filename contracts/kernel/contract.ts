import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { CallContext } from './call-context';
import type { Envelope, EventOrigin } from './envelope';
import type { MethodAccess } from './method-access';

/**
 * How a bounded context describes what others may know of it: its methods (request and response
 * schemas, a name that is also the gRPC service and method) and its integration events. The
 * interface callers code against is derived from these schemas, so it cannot drift from them.
 */

/**
 * The aggregate a call is about, as its method declares it: its type (`order`, `product`) and how
 * to read its id from a request. Logs carry it as `<type>_id`; a shift to an extracted context
 * keeps an aggregate's calls on one side (sticky). Infra reads only this, never field names.
 */
export interface AggregateKey<Req = unknown> {
  readonly type: string;
  readonly of: (request: Req) => string | undefined;
}

export interface UnaryMethod<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  readonly kind: 'unary';
  readonly request: Req;
  readonly response: Res;
  /** Safe to call twice with the same request: transports may retry it. */
  readonly idempotent: boolean;
  /** Who may call it (method-access.ts): checked by the serving side in every topology. */
  readonly access: MethodAccess;
  /** The aggregate a call is about, when it is about one. */
  readonly aggregate?: AggregateKey<z.output<Req>>;
  /**
   * Any process of the system may call it, whatever the topology's `callers` of the context say:
   * public data every service needs (identity's signing keys). Still only under mutual TLS.
   */
  readonly openToServices?: boolean;
}

export interface ServerStreamMethod<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  readonly kind: 'server-stream';
  readonly request: Req;
  readonly response: Res;
  readonly idempotent: boolean;
  readonly access: MethodAccess;
  readonly aggregate?: AggregateKey<z.output<Req>>;
}

export type ContractMethod = UnaryMethod | ServerStreamMethod;
export type ContractMethods = Record<string, ContractMethod>;

export function unary<Req extends z.ZodType, Res extends z.ZodType>(
  request: Req,
  response: Res,
  options: {
    idempotent: boolean;
    access: MethodAccess;
    openToServices?: boolean;
    aggregate?: AggregateKey<z.output<Req>>;
  },
): UnaryMethod<Req, Res> {
  const { idempotent, access, openToServices, aggregate } = options;
  return {
    kind: 'unary',
    request,
    response,
    idempotent,
    access,
    ...(openToServices ? { openToServices: true } : {}),
    ...(aggregate ? { aggregate } : {}),
  };
}

export function serverStream<Req extends z.ZodType, Res extends z.ZodType>(
  request: Req,
  response: Res,
  options: { access: MethodAccess; aggregate?: AggregateKey<z.output<Req>> },
): ServerStreamMethod<Req, Res> {
  return {
    kind: 'server-stream',
    request,
    response,
    idempotent: true,
    access: options.access,
    ...(options.aggregate ? { aggregate: options.aggregate } : {}),
  };
}

/**
 * The id of the aggregate a method's request is about, as the method declares it; undefined when
 * it declares none, or the request (not an object, or without the field) names none.
 */
export function requestAggregateIdOf(method: ContractMethod | undefined, request: unknown): string | undefined {
  const key = method?.aggregate;
  if (!key || typeof request !== 'object' || request === null) return undefined;
  return key.of(request as never) || undefined;
}

/** `<type>_id: <id>` of the aggregate a method's request is about, for log lines; empty when none. */
export function aggregateFieldsOf(method: ContractMethod | undefined, request: unknown): Record<string, string> {
  const id = requestAggregateIdOf(method, request);
  return id ? { [`${method!.aggregate!.type}_id`]: id } : {};
}

/** A protobuf message's codec, as ts-proto generates it. */
export interface WireCodec {
  encode(message: never): { finish(): Uint8Array };
  decode(input: Uint8Array): unknown;
}

export interface WireMethod {
  /** The rpc's name in the .proto (PascalCase): the gRPC path is `/<fullName>/<name>`. */
  readonly name: string;
  readonly requestType: WireCodec;
  readonly responseType: WireCodec;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/**
 * The contract's service as generated from its .proto (ts-proto, generic definitions): how its
 * messages look on the wire when a call crosses a process. Same method names as the contract.
 */
export interface WireService<M extends ContractMethods = ContractMethods> {
  readonly fullName: string;
  readonly methods: { readonly [K in keyof M]: WireMethod };
}

export interface Contract<M extends ContractMethods = ContractMethods> {
  /** Fully qualified service name, as in the .proto: `inventory.v1.InventoryService`. */
  readonly name: string;
  /** The bounded context that serves it. */
  readonly context: string;
  /** The injection token callers ask for. */
  readonly token: string;
  readonly methods: M;
  /** The generated wire definition, for transports that serialize (gRPC). */
  readonly wire?: WireService<M>;
}

export function defineContract<M extends ContractMethods>(
  context: string,
  name: string,
  methods: M,
  wire?: WireService<M>,
): Contract<M> {
  if (wire && wire.fullName !== name) {
    throw new Error(`contract ${name} was given the wire definition of ${wire.fullName}`);
  }
  return { name, context, token: `contract:${name}`, methods, wire };
}

type MethodSignature<M> =
  M extends UnaryMethod<infer Req, infer Res>
    ? (ctx: CallContext, request: z.input<Req>) => Promise<z.output<Res>>
    : M extends ServerStreamMethod<infer Req, infer Res>
      ? (ctx: CallContext, request: z.input<Req>) => AsyncIterable<z.output<Res>>
      : never;

/** The interface of a contract: one method per declared method, call context first. */
export type ContractApi<C extends Contract> = { [K in keyof C['methods']]: MethodSignature<C['methods'][K]> };

export type RequestOf<C extends Contract, K extends keyof C['methods']> = z.input<C['methods'][K]['request']>;
export type ResponseOf<C extends Contract, K extends keyof C['methods']> = z.output<C['methods'][K]['response']>;

/** An integration event type: a name, a version, a payload schema, and the aggregate it is keyed by. */
export interface EventDefinition<S extends z.ZodType = z.ZodType> {
  readonly type: string;
  readonly version: number;
  readonly context: string;
  readonly schema: S;
  readonly aggregateIdOf: (payload: z.output<S>) => string;
  /** The type of that aggregate (`order`, `customer`): logs carry its id as `<type>_id`. */
  readonly aggregate?: string;
  /** Wraps a payload into a new envelope. */
  create(payload: z.input<S>, origin: EventOrigin): Envelope<z.output<S>>;
}

export type PayloadOf<E extends EventDefinition> = z.output<E['schema']>;

/**
 * `<type>_id: <id>` of the aggregate an event is about, for log lines: the envelope's aggregate id
 * (computed once, when the event was made), under the type its definition names; empty when it
 * names none. Never reads the payload, which a poison message may not even have.
 */
export function eventAggregateFieldsOf(
  definition: EventDefinition,
  envelope: Pick<Envelope, 'aggregateId'>,
): Record<string, string> {
  return definition.aggregate && envelope.aggregateId ? { [`${definition.aggregate}_id`]: envelope.aggregateId } : {};
}

export function event<S extends z.ZodType>(
  type: string,
  version: number,
  schema: S,
  aggregateIdOf: (payload: z.output<S>) => string,
  aggregate?: string,
): EventDefinition<S> {
  const context = type.split('.')[0];
  return {
    type,
    version,
    context,
    schema,
    aggregateIdOf,
    ...(aggregate ? { aggregate } : {}),
    create(payload, origin) {
      const parsed = schema.parse(payload);
      return {
        id: randomUUID(),
        type,
        version,
        occurredAt: new Date().toISOString(),
        aggregateId: aggregateIdOf(parsed),
        correlationId: origin.correlationId,
        causationId: origin.causationId,
        traceparent: origin.traceparent,
        payload: parsed,
      };
    },
  };
}

/** The key an event is ordered and deduplicated by: type and version together. */
export function eventKey(definition: Pick<EventDefinition, 'type' | 'version'>): string {
  return `${definition.type}.v${definition.version}`;
}
