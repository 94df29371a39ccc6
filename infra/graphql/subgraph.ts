import { GraphQLError, Kind, parse, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { CallContext } from '@contracts/kernel';

/**
 * A context's subgraph, as federation sees it: its SDL (Federation v2, `@link` first) and the
 * resolvers that answer it. Built here rather than with `@apollo/subgraph`, whose one dependency
 * (`@apollo/federation-internals`) is under the Elastic License, not an open-source one (ADR 0044).
 */
export interface SubgraphDefinition<Api> {
  /** The context's name: the subgraph's name in the supergraph. */
  readonly name: string;
  readonly typeDefs: string;
  /** The resolvers, given the context's contract client: they call the context through it only. */
  readonly resolvers: (api: Api) => SubgraphResolvers;
}

/** What every resolver of a subgraph gets as its GraphQL context. */
export interface SubgraphContext {
  readonly ctx: CallContext;
  /**
   * For an operation served as a stream (a subscription): when it must end at the latest (epoch
   * ms). Its `ctx` then gives each contract call the request budget from when the call starts.
   */
  readonly stream?: { readonly until: number };
}

type Resolver = GraphQLFieldResolver<unknown, SubgraphContext, never>;

/** A subscription's root field: the events it streams, each the field's value. */
export type SubscriptionSource = (source: unknown, args: never, context: SubgraphContext) => AsyncIterable<unknown>;

export interface SubgraphResolvers {
  readonly Query?: Record<string, Resolver>;
  readonly Mutation?: Record<string, Resolver>;
  readonly Subscription?: Record<string, SubscriptionSource>;
  /** Field resolvers of the subgraph's own types. */
  readonly fields?: Record<string, Record<string, Resolver>>;
  /**
   * An entity's lookup by key: all the representations of one request's level in one call (the
   * gateway batches them), each answered in the order given, `null` where there is none.
   */
  readonly entities?: Record<
    string,
    (keys: readonly Record<string, unknown>[], context: SubgraphContext) => Promise<readonly unknown[]>
  >;
}

/** Federation's additions to every subgraph (the subgraph specification's `_service`, `_entities`). */
const FEDERATION_ADDITIONS = `
directive @key(fields: FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
directive @link(url: String!, import: [link__Import]) repeatable on SCHEMA
directive @shareable repeatable on OBJECT | FIELD_DEFINITION
directive @external on OBJECT | FIELD_DEFINITION
scalar FieldSet
scalar link__Import
scalar _Any
type _Service { sdl: String! }
`;

/**
 * How an error a resolver raised is told in GraphQL: the host gives a contract's errors (and its
 * own) the same stable `code` and status as its REST problems, in `extensions`; `undefined` leaves
 * the error as it is (the server masks it).
 */
export type ErrorToGraphql = (error: unknown) => GraphQLError | undefined;

/** A subgraph's executable schema, answering `_service` and `_entities` as the specification asks. */
export function buildSubgraphSchema(
  typeDefs: string,
  resolvers: SubgraphResolvers,
  errorOf: ErrorToGraphql,
): GraphQLSchema {
  const telling = answering(errorOf);
  const entities = Object.keys(resolvers.entities ?? {});
  // A subgraph that only adds fields to other contexts' entities has no Query of its own.
  const query = hasQueryType(typeDefs) ? 'extend type Query' : 'type Query';
  const lookup = '_entities(representations: [_Any!]!): [_Entity]!';
  const root = entities.length
    ? `union _Entity = ${entities.join(' | ')}\n${query} { _service: _Service! ${lookup} }`
    : `${query} { _service: _Service! }`;
  return makeExecutableSchema({
    typeDefs: [typeDefs, FEDERATION_ADDITIONS, root],
    resolvers: {
      ...mapObject(resolvers.fields ?? {}, (type) => mapObject(type, telling)),
      ...(resolvers.Mutation ? { Mutation: mapObject(resolvers.Mutation, telling) } : {}),
      ...(resolvers.Subscription ? { Subscription: mapObject(resolvers.Subscription, streaming(errorOf)) } : {}),
      Query: {
        ...mapObject(resolvers.Query ?? {}, telling),
        _service: () => ({ sdl: typeDefs }),
        ...(entities.length ? { _entities: telling(entitiesResolver(resolvers.entities!)) } : {}),
      },
      ...(entities.length ? { _Entity: { __resolveType: (value: { __typename: string }) => value.__typename } } : {}),
    },
  });
}

function hasQueryType(typeDefs: string): boolean {
  return parse(typeDefs).definitions.some(
    (definition) => definition.kind === Kind.OBJECT_TYPE_DEFINITION && definition.name.value === 'Query',
  );
}

function entitiesResolver(lookups: NonNullable<SubgraphResolvers['entities']>): Resolver {
  return async (_source, args, context) => {
    const representations = (args as { representations: { __typename: string }[] }).representations;
    const answers: unknown[] = new Array(representations.length).fill(null);
    const byType = new Map<string, [number, { __typename: string }][]>();
    representations.forEach((representation, index) => {
      const entries = byType.get(representation.__typename) ?? [];
      entries.push([index, representation]);
      byType.set(representation.__typename, entries);
    });
    await Promise.all(
      [...byType].map(async ([type, entries]) => {
        // Not an entity of this subgraph: none found (an own property only: no `constructor`).
        if (!Object.hasOwn(lookups, type)) return;
        const lookup = lookups[type];
        const found = await lookup(
          entries.map(([, representation]) => representation),
          context,
        );
        entries.forEach(([index], at) => {
          answers[index] = found[at] == null ? null : { __typename: type, ...(found[at] as object) };
        });
      }),
    );
    return answers;
  };
}

/** A resolver whose errors are told as the subgraph's host tells them. */
function answering(errorOf: ErrorToGraphql): (resolver: Resolver) => Resolver {
  return (resolver) => async (source, args, context, info) => {
    try {
      return await resolver(source, args, context, info);
    } catch (error) {
      throw errorOf(error) ?? error;
    }
  };
}

/** A subscription field whose events are its values, and whose errors are told as the host tells them. */
function streaming(errorOf: ErrorToGraphql) {
  return (source: SubscriptionSource) => ({
    subscribe: async function* (parent: unknown, args: never, context: SubgraphContext) {
      try {
        yield* source(parent, args, context);
      } catch (error) {
        throw errorOf(error) ?? error;
      }
    },
    resolve: (event: unknown) => event,
  });
}

function mapObject<T, U>(values: Record<string, T>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, map(value)]));
}
