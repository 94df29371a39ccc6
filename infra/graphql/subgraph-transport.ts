import { Logger } from '@nestjs/common';
import { createDefaultExecutor } from '@graphql-tools/delegate';
import { getOperationASTFromRequest, type ExecutionRequest, type Executor } from '@graphql-tools/utils';
import {
  execute,
  GraphQLError,
  Kind,
  OperationTypeNode,
  parse,
  print,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { invalidArgument, type CallContext, type SubgraphApi } from '@contracts/kernel';
import type { ErrorToGraphql, SubgraphContext } from './subgraph';

/**
 * How the planner reaches one subgraph: in this process, its schema executed directly (no
 * serialisation, no hop), or, when the topology runs the subgraph's context elsewhere, its
 * queries sent through the subgraph's contract (`subgraphContractOf`), which the bus routes as it
 * routes the context's own: gRPC with mutual TLS, the callers' allow-list, deadlines, retries, the
 * breaker and the relayed end user. `remote()` is asked at each request (undefined: served here),
 * so a context moved by configuration is followed without a rebuild. Mutations and subscriptions
 * always run here, at the edge (ADR 0044): placing an order and following one are the edge's work.
 */
export function subgraphExecutor(
  schema: GraphQLSchema,
  remote: () => SubgraphApi | undefined,
  errorOf: ErrorToGraphql,
): Executor {
  const local = createDefaultExecutor(schema);
  return ((request: ExecutionRequest) => {
    const api = operationOf(request) === OperationTypeNode.QUERY ? remote() : undefined;
    return api ? remotely(api, request, errorOf) : local(request);
  }) as Executor;
}

async function remotely(
  api: SubgraphApi,
  request: ExecutionRequest,
  errorOf: ErrorToGraphql,
): Promise<ExecutionResult> {
  const { ctx } = request.context as SubgraphContext;
  try {
    // The planner builds a new document for every subgraph request: printed each time.
    const { resultJson } = await api.execute(ctx, {
      document: print(request.document),
      variablesJson: JSON.stringify(request.variables ?? {}),
      operationName: request.operationName ?? '',
    });
    return JSON.parse(resultJson) as ExecutionResult;
  } catch (error) {
    // The call itself failed (the service unavailable, too slow, the caller refused): every field
    // the planner asked of it carries the contract's error, with its code, as a resolver's would.
    const coded = errorOf(error);
    if (coded) return { errors: [coded] };
    throw error;
  }
}

function operationOf(request: ExecutionRequest): OperationTypeNode {
  return request.operationType ?? getOperationASTFromRequest(request).operation;
}

/**
 * How much operation text a served subgraph keeps parsed and validated (the planner's queries are
 * a few shapes, each a few hundred bytes to a few kB); a text longer than the largest kept one is
 * checked every time.
 */
const KEPT_TEXT = 4 * 1024 * 1024;
const LARGEST_KEPT = 64 * 1024;

/**
 * The most keys one subgraph request may carry in its variables (entity representations): far
 * above what the gateway's cost limit lets a client's query ask for, so only a caller that is not
 * the gateway's planner could send more; it is refused before any lookup runs.
 */
export const MAX_KEYS_PER_REQUEST = 1_000;

/**
 * Serves a subgraph's schema to the planner of a gateway in another process: the subgraph
 * contract's `execute`. The operation is parsed and validated against the subgraph (once per
 * distinct text), must be a query (mutations and subscriptions are the edge's), and its errors
 * go back as the edge would show them: a coded error (a contract's: `code` and `status` in
 * `extensions`) as it is, anything else as `internal`, its details in this process's log only.
 * A query this subgraph cannot run as planned (a field it does not know, a variable of another
 * type) means the gateway composed another version of it: `subgraph-mismatch`, 502, never the
 * client's fault, with the details in this process's log.
 */
export function servedSubgraph(
  name: string,
  schema: GraphQLSchema,
): (
  ctx: CallContext,
  operation: { document: string; variablesJson: string; operationName: string },
) => Promise<{
  resultJson: string;
}> {
  const logger = new Logger(`Subgraph(${name})`);
  const operations = new LRUCache<string, DocumentNode | string>({
    maxSize: KEPT_TEXT,
    sizeCalculation: (_, text) => text.length + 1,
  });
  const mismatch = (details: string) => {
    logger.warn({ details }, `a query the ${name} subgraph cannot run: the gateway plans over another version of it`);
    return {
      resultJson: JSON.stringify({
        errors: [
          {
            message: `the ${name} subgraph cannot run the query the gateway planned (another version of it?)`,
            extensions: { code: 'subgraph-mismatch', status: 502 },
          },
        ],
      }),
    };
  };
  const documentOf = (text: string): DocumentNode | string => {
    let known = operations.get(text);
    if (known === undefined) {
      known = checked(schema, text);
      if (text.length <= LARGEST_KEPT) operations.set(text, known);
    }
    return known;
  };
  return async (ctx, { document: text, variablesJson, operationName }) => {
    const document = documentOf(text);
    if (typeof document === 'string') return mismatch(document);
    const variables = parseVariables(variablesJson);
    const result = await execute({
      schema,
      document,
      variableValues: variables,
      operationName: operationName || undefined,
      contextValue: { ctx } satisfies SubgraphContext,
    });
    // An error with no path is about the request itself (its variables, its operation name).
    const unrunnable = result.errors?.find((error) => error.path === undefined);
    if (unrunnable) return mismatch(unrunnable.message);
    const errors = result.errors?.map((error) => told(error, logger));
    return { resultJson: JSON.stringify(errors ? { data: result.data, errors } : { data: result.data }) };
  };
}

/** The operation parsed and validated, or why not (for the log); only queries are served. */
function checked(schema: GraphQLSchema, text: string): DocumentNode | string {
  let document: DocumentNode;
  try {
    document = parse(text, { maxTokens: 10_000 });
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const notQuery = document.definitions.some(
    (definition) => definition.kind === Kind.OPERATION_DEFINITION && definition.operation !== OperationTypeNode.QUERY,
  );
  if (notQuery) return 'a subgraph serves queries only: mutations and subscriptions are the edge’s';
  const errors = validate(schema, document);
  return errors.length > 0 ? errors.map((error) => error.message).join('; ') : document;
}

function parseVariables(json: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = json === '' ? {} : JSON.parse(json);
  } catch {
    throw invalidArgument('invalid-request', 'variablesJson is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidArgument('invalid-request', 'variablesJson is not a JSON object');
  }
  const keys = Object.values(parsed).reduce<number>((sum, value) => sum + (Array.isArray(value) ? value.length : 0), 0);
  if (keys > MAX_KEYS_PER_REQUEST) {
    throw invalidArgument('too-many-keys', `a subgraph request carries at most ${MAX_KEYS_PER_REQUEST} keys`);
  }
  return parsed as Record<string, unknown>;
}

/** An error as it leaves the subgraph: coded as it was, or masked as `internal` and logged here. */
function told(error: GraphQLError, logger: Logger) {
  const { message, path, extensions } = error;
  if (typeof extensions.status === 'number') return { message, path, extensions };
  logger.error({ err: error.originalError ?? error, path }, 'a subgraph field failed');
  return { message: 'Unexpected error.', path, extensions: { code: 'internal', status: 500 } };
}
