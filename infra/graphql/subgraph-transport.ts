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

/** The printed text of the planner's documents, each printed once. */
const printed = new WeakMap<DocumentNode, string>();

async function remotely(
  api: SubgraphApi,
  request: ExecutionRequest,
  errorOf: ErrorToGraphql,
): Promise<ExecutionResult> {
  const { ctx } = request.context as SubgraphContext;
  let document = printed.get(request.document);
  if (document === undefined) {
    document = print(request.document);
    printed.set(request.document, document);
  }
  try {
    const { resultJson } = await api.execute(ctx, {
      document,
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

/** The most distinct operations a served subgraph keeps parsed and validated (the planner's are few shapes). */
const KEPT_OPERATIONS = 500;

/**
 * Serves a subgraph's schema to the planner of a gateway in another process: the subgraph
 * contract's `execute`. The operation is parsed and validated against the subgraph (once per
 * distinct text), must be a query (mutations and subscriptions are the edge's), and its errors
 * go back as the edge would show them: a coded error (a contract's: `code` and `status` in
 * `extensions`) as it is, anything else as `internal`, its details in this process's log only.
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
  const operations = new LRUCache<string, DocumentNode | readonly GraphQLError[]>({ max: KEPT_OPERATIONS });
  const documentOf = (text: string): DocumentNode | readonly GraphQLError[] => {
    let known = operations.get(text);
    if (known === undefined) {
      known = checked(schema, text);
      operations.set(text, known);
    }
    return known;
  };
  return async (ctx, { document: text, variablesJson, operationName }) => {
    const document = documentOf(text);
    if (!isDocument(document)) return { resultJson: JSON.stringify({ errors: document.map(invalid) }) };
    const variables = parseVariables(variablesJson);
    const result = await execute({
      schema,
      document,
      variableValues: variables,
      operationName: operationName || undefined,
      contextValue: { ctx } satisfies SubgraphContext,
    });
    const errors = result.errors?.map((error) => told(error, logger));
    return { resultJson: JSON.stringify(errors ? { data: result.data, errors } : { data: result.data }) };
  };
}

function isDocument(value: DocumentNode | readonly GraphQLError[]): value is DocumentNode {
  return !Array.isArray(value);
}

/** The operation parsed and validated, or why not; only queries are served. */
function checked(schema: GraphQLSchema, text: string): DocumentNode | readonly GraphQLError[] {
  let document: DocumentNode;
  try {
    document = parse(text, { maxTokens: 10_000 });
  } catch (error) {
    return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
  }
  const errors = validate(schema, document);
  if (errors.length > 0) return errors;
  const notQuery = document.definitions.some(
    (definition) => definition.kind === Kind.OPERATION_DEFINITION && definition.operation !== OperationTypeNode.QUERY,
  );
  return notQuery
    ? [new GraphQLError('a subgraph serves queries only: mutations and subscriptions are the edge’s')]
    : document;
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
  return parsed as Record<string, unknown>;
}

function invalid(error: GraphQLError) {
  return { message: error.message, extensions: { code: 'invalid-query', status: 400 } };
}

/** An error as it leaves the subgraph: coded as it was, or masked as `internal` and logged here. */
function told(error: GraphQLError, logger: Logger) {
  const { message, path, extensions } = error;
  if (typeof extensions.status === 'number') return { message, path, extensions };
  logger.error({ err: error.originalError ?? error, path }, 'a subgraph field failed');
  return { message: 'Unexpected error.', path, extensions: { code: 'internal', status: 500 } };
}
