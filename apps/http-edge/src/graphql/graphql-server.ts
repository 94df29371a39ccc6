import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { Logger } from '@nestjs/common';
import {
  GraphQLError,
  Kind,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { SubgraphApi } from '@contracts/kernel';
import { plannedSupergraph, subgraphExecutor, type SubgraphContext } from '@infra/graphql';
import { problem } from '../problem/problem';
import { illFormedTextIn, wellFormedText } from '../validation';
import { graphqlErrorOf, shopSubgraphs, type ShopApis } from './shop-subgraphs';

/**
 * The limits every GraphQL operation is checked against before it runs (graphql-armor): nesting,
 * aliases, directives, tokens and an estimated cost, so that no query of a few hundred bytes can
 * fan out into thousands of contract calls. docs/graphql.md says how they were chosen.
 */
export const GRAPHQL_LIMITS = {
  maxDepth: 8,
  maxAliases: 10,
  maxDirectives: 10,
  maxTokens: 1_000,
  maxCost: 5_000,
  /** Characters of query text: a comment or a string is one token, and Yoga keeps 1,024 parsed queries. */
  maxQueryLength: 16_384,
  /** Fields of one response path, through fragments and the fields above it (graphql-js compares them pairwise). */
  maxSameField: 20,
  /** Selections visited to count them, fragments spread over and over included. */
  maxSelectionsExpanded: 10_000,
} as const;

const logger = new Logger('GraphQL');

export interface GraphqlServerOptions {
  /** Introspection and field suggestions answer only outside production (NODE_ENV=production). */
  readonly production: boolean;
  /**
   * Where a subgraph's queries go when its context runs in another process: its subgraph
   * contract's client; undefined (or unset) while it runs in this one. Asked at each request.
   */
  readonly remote?: (subgraph: string) => SubgraphApi | undefined;
}

export type ShopGraphqlServer = YogaServerInstance<SubgraphContext, object>;

/**
 * `POST /graphql` (and GET for queries): the supergraph of the shop's subgraphs, served by
 * GraphQL Yoga. Errors carry the REST problems' `code` and `status` in `extensions`; anything
 * unexpected is masked as `internal`, its details kept for the log.
 */
export function shopGraphqlServer(apis: ShopApis, options: GraphqlServerOptions): ShopGraphqlServer {
  return createYoga<SubgraphContext>({
    schema: plannedSupergraph(shopSubgraphs(apis), ({ name, schema }) =>
      subgraphExecutor(schema, () => options.remote?.(name), graphqlErrorOf),
    ),
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    logging: false,
    batching: false,
    multipart: false,
    maskedErrors: {
      maskError: (error, message) => maskUnexpected(error, message, options.production),
    },
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: GRAPHQL_LIMITS.maxDepth },
        // Every alias counts, `__typename`'s too (graphql-armor lets those pass by default).
        maxAliases: { n: GRAPHQL_LIMITS.maxAliases, allowList: [] },
        maxDirectives: { n: GRAPHQL_LIMITS.maxDirectives },
        maxTokens: { n: GRAPHQL_LIMITS.maxTokens },
        costLimit: { maxCost: GRAPHQL_LIMITS.maxCost },
        blockFieldSuggestion: { enabled: options.production },
      }),
      ...(options.production ? [useDisableIntrospection()] : []),
      boundedQueries(),
      invalidQueriesCoded(),
      wellFormedStrings(),
      subscriptionsOnlyAsStreams(),
      bareAnswersAsProblems(),
    ],
  });
}

const BARE_ANSWERS: Readonly<Record<number, { code: string; detail: string }>> = {
  404: { code: 'not-found', detail: 'GraphQL is served at /graphql' },
  405: { code: 'method-not-allowed', detail: 'a GraphQL request is a GET or a POST' },
  406: {
    code: 'not-acceptable',
    detail: 'GraphQL answers as application/json, application/graphql-response+json or text/event-stream',
  },
  413: { code: 'payload-too-large', detail: 'the GraphQL request is too large' },
  415: { code: 'unsupported-media-type', detail: 'a GraphQL request is POSTed as application/json' },
};

/**
 * Yoga answers some requests it will not run with a status and no body of its own: a media type
 * it cannot answer in (`Accept: text/html`, 406), a body type it cannot read (415), a path that is
 * not its endpoint (404). Each leaves as a problem, as every other refusal of the edge does.
 */
function bareAnswersAsProblems(): Plugin {
  return {
    onResponse: ({ request, response, setResponse, fetchAPI }) => {
      if (response.status < 400 || /json/i.test(response.headers.get('content-type') ?? '')) return;
      const status = response.status;
      const { code, detail } =
        BARE_ANSWERS[status] ??
        (status >= 500
          ? { code: 'internal', detail: 'the request failed on our side' }
          : { code: 'invalid-query', detail: 'this GraphQL request cannot be answered' });
      if (status >= 500) logger.error({ status }, 'GraphQL Yoga answered a request with an error of its own');
      const headers = new fetchAPI.Headers(response.headers);
      headers.set('content-type', 'application/problem+json');
      headers.delete('content-length');
      const body = problem(status, code, detail, { instance: new URL(request.url).pathname });
      setResponse(new fetchAPI.Response(JSON.stringify(body), { status, headers }));
    },
  };
}

/**
 * Two limits graphql-armor has no rule for, checked before the query is parsed and before it is
 * validated: the text's length (a 60 kB comment is one token, and Yoga's caches keep a thousand
 * parsed queries an hour), and how many fields share one response path, through fragments and the
 * fields above it. graphql-js checks that such fields merge by comparing them pairwise: 140
 * `products { … }` in 4 kB, under every other limit, took 70–180 ms of the event loop to validate,
 * each request.
 */
function boundedQueries(): Plugin {
  const refuse = (message: string) => new GraphQLError(message, { extensions: { code: 'invalid-query', status: 400 } });
  return {
    onParse: ({ params }) => {
      const text = typeof params.source === 'string' ? params.source : params.source.body;
      if (text.length > GRAPHQL_LIMITS.maxQueryLength) {
        throw refuse(`the query is longer than ${GRAPHQL_LIMITS.maxQueryLength} characters`);
      }
    },
    onValidate: ({ params, setResult }) => {
      const refusal = mergeRefusal(params.documentAST, {
        sameField: GRAPHQL_LIMITS.maxSameField,
        depth: GRAPHQL_LIMITS.maxDepth + 1,
        selections: GRAPHQL_LIMITS.maxSelectionsExpanded,
      });
      if (refusal) setResult([refuse(refusal)]);
    },
  };
}

/** How far `mergeRefusal` looks before it refuses, or leaves the rest to graphql-armor. */
export interface MergeBounds {
  /** Fields of one response path, at most. */
  readonly sameField: number;
  /** Levels of fields walked: deeper, graphql-armor's depth limit refuses the query anyway. */
  readonly depth: number;
  /** Selections visited in all (fields, spreads, inline fragments), fragments spread over and over included. */
  readonly selections: number;
}

/**
 * Why graphql-js's check that same-named fields merge would be too costly for this document, or
 * undefined. Counted as graphql-js merges: every field of one response name under every field of
 * the path above it, through inline fragments and fragment spreads (`{ products { items } products
 * { items } }` selects `products.items` twice; 15 `items` in each of 15 `products` is 225), in
 * every operation and every fragment (graphql-js checks an unused one too). The walk is bounded
 * itself: no deeper than `depth`, no more than `selections` visited (a fragment spread twice in
 * each of twenty nested fragments is a million), each fragment once on a path (a cycle).
 */
export function mergeRefusal(document: DocumentNode, bounds: MergeBounds): string | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let visited = 0;
  let refusal: string | undefined;
  /** The fields under one response path, merged: each name's count and the selections below it. */
  const walk = (sets: readonly SelectionSetNode[], path: string, depth: number): boolean => {
    if (depth > bounds.depth) return true;
    const byName = new Map<string, { count: number; below: SelectionSetNode[] }>();
    const collect = (set: SelectionSetNode, spreading: Set<string>): boolean => {
      for (const selection of set.selections) {
        visited += 1;
        if (visited > bounds.selections) {
          refusal = `the query expands to more than ${bounds.selections} selections (fragments spread included)`;
          return false;
        }
        if (selection.kind === Kind.FIELD) {
          const name = (selection.alias ?? selection.name).value;
          const field = byName.get(name) ?? { count: 0, below: [] };
          byName.set(name, field);
          field.count += 1;
          if (selection.selectionSet) field.below.push(selection.selectionSet);
          if (field.count > bounds.sameField) {
            refusal =
              `"${path}${name}" is selected more than ${bounds.sameField} times ` +
              '(fragments and the fields above it included)';
            return false;
          }
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          if (!collect(selection.selectionSet, spreading)) return false;
        } else {
          const fragment = fragments.get(selection.name.value);
          // An unknown fragment, or a cycle: validation refuses both.
          if (!fragment || spreading.has(fragment.name.value)) continue;
          spreading.add(fragment.name.value);
          const within = collect(fragment.selectionSet, spreading);
          spreading.delete(fragment.name.value);
          if (!within) return false;
        }
      }
      return true;
    };
    for (const set of sets) if (!collect(set, new Set())) return false;
    for (const [name, field] of byName) {
      if (field.below.length > 0 && !walk(field.below, `${path}${name}.`, depth + 1)) return false;
    }
    return true;
  };
  for (const definition of document.definitions) {
    const root = definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION;
    if (root && !walk([definition.selectionSet], '', 1)) break;
  }
  return refusal;
}

/** A query refused before it runs (syntax, unknown field, a limit) answers code `invalid-query`, 400. */
function invalidQueriesCoded(): Plugin {
  return {
    onValidate:
      () =>
      ({ result, setResult }) => {
        if (result.length === 0) return;
        setResult(
          result.map(
            (error) =>
              new GraphQLError(error.message, {
                nodes: error.nodes,
                extensions: { code: 'invalid-query', status: 400 },
              }),
          ),
        );
      },
  };
}

/**
 * A subscription runs only in a request the edge admitted as a stream (`OpenStreams`: its own
 * budget, per caller too), whatever Yoga would otherwise have streamed it in.
 */
function subscriptionsOnlyAsStreams(): Plugin<SubgraphContext> {
  return {
    onSubscribe: ({ args, setResultAndStopExecution }) => {
      if ((args.contextValue as SubgraphContext).stream) return;
      setResultAndStopExecution({
        errors: [
          new GraphQLError('a subscription is served as server-sent events: ask with Accept: text/event-stream', {
            extensions: { code: 'invalid-query', status: 406 },
          }),
        ],
      });
    },
  };
}

/**
 * The edge refuses text PostgreSQL cannot store (NUL, an unpaired surrogate) in every JSON body,
 * but GraphQL has escapes of its own: `"\\u0000"` in a query's text is a NUL once parsed. So the
 * parsed operation's string literals and its variables are checked again, before anything runs.
 */
function wellFormedStrings(): Plugin {
  const refuse = (where: string) =>
    new GraphQLError('a string in the operation holds a NUL or is not well-formed Unicode', {
      extensions: {
        code: 'malformed-text',
        status: 400,
        errors: [{ path: where, message: 'NUL or an unpaired surrogate' }],
      },
    });
  const check = (document: DocumentNode, variables: unknown) => {
    let literal: string | undefined;
    visit(document, {
      StringValue(node) {
        if (literal === undefined && !wellFormedText(node.value)) literal = `query.${node.loc?.start ?? 0}`;
      },
    });
    const where = literal ?? illFormedTextIn(variables ?? {}, 'variables');
    if (where !== undefined) throw refuse(where);
  };
  return {
    onExecute: ({ args }) => check(args.document, args.variableValues),
    onSubscribe: ({ args }) => check(args.document, args.variableValues),
  };
}

/**
 * What leaves the server: an error a subgraph coded (a contract's), as it was; one about the
 * request itself (syntax, a variable of the wrong type, a limit graphql-armor enforces while
 * parsing or validating: none has a `path`, since nothing ran) as `invalid-query`; anything else
 * masked as `internal` and logged.
 */
function maskUnexpected(error: unknown, message: string, production: boolean): Error {
  const coded = findCoded(error);
  if (coded) return coded;
  if (error instanceof GraphQLError && error.path === undefined) {
    // Its message may quote the variables (a card token): the client's own, never logged.
    // Yoga's own HTTP answer for it (405 for a mutation by GET, 400 for a batch) is kept, and said.
    const http = error.extensions.http as { status?: number } | undefined;
    // A variable's misspelt field is found as the operation runs, past graphql-armor's rule.
    const text = production ? error.message.replace(SUGGESTION, '') : error.message;
    return new GraphQLError(text, {
      nodes: error.nodes,
      extensions: { ...(http ? { http } : {}), code: 'invalid-query', status: http?.status ?? 400 },
    });
  }
  // The client learns nothing of it; the log has it all (as ProblemFilter does for REST's 500s).
  logger.error({ err: error }, 'a GraphQL operation failed');
  return new GraphQLError(message, { extensions: { code: 'internal', status: 500 } });
}

/** graphql-js's suggestion of names the schema has: ` Did you mean "items"?`, `… "a", "b", or "c"?`. */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/** The error with a stable code and status, as a subgraph raised it (the planner wraps it once or twice). */
function findCoded(error: unknown): GraphQLError | undefined {
  for (let at: unknown = error; at; at = (at as { originalError?: unknown }).originalError) {
    if (at instanceof GraphQLError && typeof at.extensions.status === 'number') {
      return error instanceof GraphQLError
        ? new GraphQLError(at.message, { nodes: error.nodes, path: error.path, extensions: at.extensions })
        : at;
    }
  }
  return undefined;
}
