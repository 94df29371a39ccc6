import { parseExposition, type MetricSample } from '@infra/observability';
import { EDGE, type ModuleGraph } from './module-graph';

/** The metric every process exports for each contract call it makes (infra/observability/red-metrics.ts). */
export const CONTRACT_CALLS_METRIC = 'ficus_contract_calls_total';

/** How long each contract call took, as its caller measured it (a histogram: `_sum` seconds, `_count` calls). */
export const CALL_DURATION_METRIC = 'ficus_contract_call_duration_seconds';

/** Contract calls counted in one or more processes: by `contract/method`, summed over outcomes and processes. */
export interface CallCounts {
  readonly total: ReadonlyMap<string, number>;
  readonly errors: ReadonlyMap<string, number>;
  /** The seconds the calls took in all, and how many calls were timed (CALL_DURATION_METRIC). */
  readonly seconds: ReadonlyMap<string, number>;
  readonly timed: ReadonlyMap<string, number>;
}

export function countCalls(scrapes: readonly (readonly MetricSample[])[]): CallCounts {
  const counts = {
    total: new Map<string, number>(),
    errors: new Map<string, number>(),
    seconds: new Map<string, number>(),
    timed: new Map<string, number>(),
  };
  const add = (into: Map<string, number>, key: string, value: number) => into.set(key, (into.get(key) ?? 0) + value);
  for (const samples of scrapes) {
    for (const { name, labels, value } of samples) {
      if (!labels.contract || !labels.method) continue;
      const key = `${labels.contract}/${labels.method}`;
      if (name === CONTRACT_CALLS_METRIC) {
        add(counts.total, key, value);
        if (labels.outcome && labels.outcome !== 'ok') add(counts.errors, key, value);
      } else if (name === `${CALL_DURATION_METRIC}_sum`) add(counts.seconds, key, value);
      else if (name === `${CALL_DURATION_METRIC}_count`) add(counts.timed, key, value);
    }
  }
  return counts;
}

/** What the metrics say about one sync edge. */
export interface EdgeCalls {
  /** Calls counted since the processes started (at the second scrape). */
  readonly total: number;
  /** Of those, calls that failed (outcome other than `ok`). */
  readonly errors: number;
  /** Calls per second between the two scrapes; absent with a single scrape. */
  readonly perSecond?: number;
  /** Of the calls between the two scrapes, the share that failed (percent); absent without such calls. */
  readonly failingPercent?: number;
  /**
   * The mean time the calls between the two scrapes took, as their callers measured them (ms);
   * absent without timed calls.
   */
  readonly meanMs?: number;
  /**
   * `sole`: only this caller calls these methods, so the counts are its own. `shared`: another
   * caller calls some of them too; the metric has no caller label, so the counts are an upper bound.
   */
  readonly attribution: 'sole' | 'shared';
  readonly byMethod: Readonly<Record<string, number>>;
}

export interface CallRates {
  /** Seconds between the two scrapes; 0 for totals only. */
  readonly sampleSeconds: number;
  readonly sources: readonly string[];
  /** By sync edge, `from→to`. */
  readonly edges: Readonly<Record<string, EdgeCalls>>;
  /** Methods counted that no edge of the graph explains (a caller the source does not show). */
  readonly unattributed: Readonly<Record<string, number>>;
  /**
   * By async edge, `from→to`: records of `from`'s topic not yet consumed by `to`'s group
   * (`ficus_consumer_lag`, split mode only). ficus exports no per-event counter, so async edges
   * carry no rate.
   */
  readonly lag: Readonly<Record<string, number>>;
}

/** `ficus_consumer_lag{group="<ns>.<consumer>", topic="<ns>.<producer>.events"}` on the async edges. */
export function consumerLag(graph: ModuleGraph, scrapes: readonly (readonly MetricSample[])[]): Record<string, number> {
  const lag: Record<string, number> = {};
  for (const samples of scrapes) {
    for (const { name, labels, value } of samples) {
      if (name !== 'ficus_consumer_lag' || !labels.group || !labels.topic) continue;
      const consumer = labels.group.split('.').pop();
      const producer = /([^.]+)\.events$/.exec(labels.topic)?.[1];
      const edge = graph.async.find((candidate) => candidate.from === producer && candidate.to === consumer);
      if (edge) lag[edgeKey(edge)] = (lag[edgeKey(edge)] ?? 0) + value;
    }
  }
  return lag;
}

/**
 * The `contract/method` keys of each sync edge's calls, by method. The edge's GraphQL queries of a
 * subgraph served in another process (`catalog.v1.CatalogSubgraphService/execute`, ADR 0044) are
 * calls on its edge to that context too, as `graphql`.
 */
function callKeys(
  graph: ModuleGraph,
): (edge: ModuleGraph['sync'][number]) => Array<readonly [method: string, key: string]> {
  const subgraphs = new Map(
    graph.contexts.flatMap((node) => (node.subgraph ? [[node.name, node.subgraph] as const] : [])),
  );
  return (edge) => {
    const keys = edge.methods.map((method) => [method, `${edge.contract}/${method}`] as const);
    const subgraph = edge.from === EDGE ? subgraphs.get(edge.to) : undefined;
    return subgraph ? [...keys, ['graphql', `${subgraph}/execute`] as const] : keys;
  };
}

export function edgeKey(edge: { from: string; to: string }): string {
  return `${edge.from}→${edge.to}`;
}

/**
 * Puts the counts of two scrapes on the graph's sync edges (pure). A method called by several
 * callers (ordering and the edge both call catalog.getProducts) counts for each of them, marked
 * `shared`: ficus_contract_calls_total is labelled by contract and method, not by caller.
 */
export function attributeCalls(
  graph: ModuleGraph,
  first: CallCounts,
  second: CallCounts,
  sampleSeconds: number,
  sources: readonly string[],
  lag: Readonly<Record<string, number>> = {},
): CallRates {
  const callKeysOf = callKeys(graph);
  const callers = new Map<string, string[]>();
  for (const edge of graph.sync) {
    for (const [, key] of callKeysOf(edge)) {
      callers.set(key, [...(callers.get(key) ?? []), edge.from]);
    }
  }
  const edges: Record<string, EdgeCalls> = {};
  for (const edge of graph.sync) {
    let total = 0;
    let errors = 0;
    let before = 0;
    let errorsBefore = 0;
    let seconds = 0;
    let timed = 0;
    let shared = false;
    const byMethod: Record<string, number> = {};
    for (const [method, key] of callKeysOf(edge)) {
      const count = second.total.get(key) ?? 0;
      if (count > 0 || edge.methods.includes(method)) byMethod[method] = count;
      total += count;
      errors += second.errors.get(key) ?? 0;
      before += first.total.get(key) ?? 0;
      errorsBefore += first.errors.get(key) ?? 0;
      seconds += (second.seconds.get(key) ?? 0) - (first.seconds.get(key) ?? 0);
      timed += (second.timed.get(key) ?? 0) - (first.timed.get(key) ?? 0);
      if ((callers.get(key)?.length ?? 0) > 1) shared = true;
    }
    edges[edgeKey(edge)] = {
      total,
      errors,
      // A process that restarted between the scrapes counts from 0 again: no negative rate.
      ...(sampleSeconds > 0 ? { perSecond: round(Math.max(0, total - before) / sampleSeconds) } : {}),
      ...(sampleSeconds > 0 && total > before
        ? { failingPercent: Math.round((Math.max(0, errors - errorsBefore) / (total - before)) * 1_000) / 10 }
        : {}),
      ...(timed > 0 ? { meanMs: Math.round((seconds / timed) * 10_000) / 10 } : {}),
      attribution: shared ? 'shared' : 'sole',
      byMethod,
    };
  }
  const unattributed: Record<string, number> = {};
  for (const [key, count] of second.total) {
    if (!callers.has(key) && count > 0) unattributed[key] = count;
  }
  return { sampleSeconds, sources, edges, unattributed, lag };
}

/** Scrapes `/metrics` of each process; a URL without a path gets `/metrics`. */
export async function scrapeAll(
  urls: readonly string[],
  fetchText: (url: string) => Promise<string> = defaultFetch,
): Promise<MetricSample[][]> {
  return Promise.all(urls.map(async (url) => parseExposition(await fetchText(metricsUrl(url)))));
}

export function metricsUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/metrics';
  return parsed.toString();
}

/**
 * Two scrapes `sampleSeconds` apart (one when 0), put on the graph. The wait is the point of the
 * command (a rate needs two readings), not a test's sleep.
 */
export async function sampleCallRates(
  graph: ModuleGraph,
  urls: readonly string[],
  sampleSeconds: number,
  fetchText?: (url: string) => Promise<string>,
): Promise<CallRates> {
  const firstScrapes = await scrapeAll(urls, fetchText);
  const first = countCalls(firstScrapes);
  if (sampleSeconds <= 0) return attributeCalls(graph, first, first, 0, urls, consumerLag(graph, firstScrapes));
  await new Promise((resolve) => setTimeout(resolve, sampleSeconds * 1000));
  const secondScrapes = await scrapeAll(urls, fetchText);
  return attributeCalls(
    graph,
    first,
    countCalls(secondScrapes),
    sampleSeconds,
    urls,
    consumerLag(graph, secondScrapes),
  );
}

async function defaultFetch(url: string): Promise<string> {
  let answer: Response;
  try {
    answer = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  } catch (error) {
    throw new Error(`cannot scrape ${url}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (answer.status !== 200) throw new Error(`GET ${url} answered ${answer.status}`);
  return answer.text();
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
