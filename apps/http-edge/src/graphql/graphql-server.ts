import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { Logger } from '@nestjs/common';
import { GraphQLError, visit, type DocumentNode } from 'graphql';
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
      maskError: (error, message) => maskUnexpected(error, message),
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
function maskUnexpected(error: unknown, message: string): Error {
  const coded = findCoded(error);
  if (coded) return coded;
  if (error instanceof GraphQLError && error.path === undefined) {
    // Its message may quote the variables (a card token): the client's own, never logged.
    // Yoga's own HTTP answer for it (405 for a mutation by GET, 400 for a batch) is kept, and said.
    const http = error.extensions.http as { status?: number } | undefined;
    return new GraphQLError(error.message, {
      nodes: error.nodes,
      extensions: { ...(http ? { http } : {}), code: 'invalid-query', status: http?.status ?? 400 },
    });
  }
  // The client learns nothing of it; the log has it all (as ProblemFilter does for REST's 500s).
  logger.error({ err: error }, 'a GraphQL operation failed');
  return new GraphQLError(message, { extensions: { code: 'internal', status: 500 } });
}

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
