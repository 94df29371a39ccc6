import { lexicographicSortSchema, parse, printSchema, type GraphQLSchema } from 'graphql';
import { createDefaultExecutor } from '@graphql-tools/delegate';
import type { Executor } from '@graphql-tools/utils';
import { getStitchedSchemaFromSupergraphSdl } from '@graphql-tools/federation';
import { composeServices } from '@theguild/federation-composition';

/** A subgraph as the supergraph is composed from it: its name, SDL and executable schema. */
export interface ComposableSubgraph {
  readonly name: string;
  readonly typeDefs: string;
  readonly schema: GraphQLSchema;
}

/** Composition refused the subgraphs: a configuration error, named subgraph by subgraph. */
export class SupergraphCompositionError extends Error {
  override readonly name = 'SupergraphCompositionError';
}

/**
 * The supergraph SDL of these subgraphs, composed by The Guild's federation composition (the
 * same rules and output as Apollo's, MIT-licensed). Throws when they do not compose.
 */
export function composeSupergraph(subgraphs: readonly Pick<ComposableSubgraph, 'name' | 'typeDefs'>[]): string {
  const result = composeServices(
    subgraphs.map((subgraph) => ({
      name: subgraph.name,
      typeDefs: parse(subgraph.typeDefs),
      url: `in-process://${subgraph.name}`,
    })),
  );
  if (result.errors?.length || result.supergraphSdl === undefined) {
    const reasons = (result.errors ?? []).map((error) => `  - ${error.message}`).join('\n');
    throw new SupergraphCompositionError(`the GraphQL subgraphs do not compose:\n${reasons}`);
  }
  return result.supergraphSdl;
}

/**
 * The supergraph as one executable schema: the federation planner of `@graphql-tools/federation`
 * (the one Hive Gateway runs) splits each query into subgraph queries and joins their answers by
 * key. Each subgraph's queries go to the executor `executorOf` gives it: in the monolith its schema
 * executed in this process, with no hop; split, its own service (`subgraphExecutor`).
 */
export function plannedSupergraph(
  subgraphs: readonly ComposableSubgraph[],
  executorOf: (subgraph: ComposableSubgraph) => Executor = (subgraph) => createDefaultExecutor(subgraph.schema),
): GraphQLSchema {
  return getStitchedSchemaFromSupergraphSdl({
    supergraphSdl: composeSupergraph(subgraphs),
    batch: true,
    // Entity lookups are still batched per level, but never answered from an earlier lookup: the
    // planner keys its loaders by the request's context, which a subscription keeps for all its
    // events, so a cache would answer every event's `Order.payment` with the first event's.
    batchDelegateOptions: { cache: false },
    onSubschemaConfig(config) {
      // The supergraph names its subgraphs in upper case (join__Graph enum values): match both.
      const subgraph =
        subgraphs.find((s) => s.name === config.name) ?? subgraphs.find((s) => s.name.toUpperCase() === config.name);
      if (!subgraph)
        throw new SupergraphCompositionError(`the supergraph names a subgraph ${config.name} not served here`);
      config.executor = executorOf(subgraph);
    },
  });
}

/** The supergraph with every subgraph executed in this process. */
export function inProcessSupergraph(subgraphs: readonly ComposableSubgraph[]): GraphQLSchema {
  return plannedSupergraph(subgraphs);
}

/**
 * The supergraph as its clients see it, in SDL: the types and fields the subgraphs compose into,
 * without federation's own (`_entities`, `join__*`). What `/docs/schema.graphql` serves.
 */
export function printSupergraphApi(subgraphs: readonly Pick<ComposableSubgraph, 'name' | 'typeDefs'>[]): string {
  const schema = getStitchedSchemaFromSupergraphSdl({ supergraphSdl: composeSupergraph(subgraphs) });
  return printSchema(lexicographicSortSchema(schema));
}
