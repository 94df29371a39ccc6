import { edgeKey, type CallRates } from './call-rates';
import { EDGE, type ModuleGraph } from './module-graph';
import type { BoundaryViolation } from './source-checks';

/**
 * How much each fact about a context adds to the cost (and risk) of moving it out of the
 * monolith into a process of its own. Lower total = cheaper and safer: extract first.
 *
 * Why these weights:
 * - A context another *context* calls synchronously turns that call into a network hop with a
 *   deadline, retries and a breaker on the caller's side, and the caller's availability now
 *   depends on it: 3 per calling context, plus 1 per method they call.
 * - The HTTP edge calls every context and already reaches each one the same way in split mode
 *   (a gRPC client per contract), so its calls barely change: 0.25 per method.
 * - A context that calls others makes its own calls remote: 2 per context it calls, 1 per method.
 * - A chatty pair (many methods, or many calls per second, between two contexts) pays latency on
 *   every request and often hides a misplaced boundary: 1.5 per method of the busiest pair beyond
 *   the first, and with metrics 2·log10(1 + calls/s) of it.
 * - Call rates, when the metrics give them, add 2·log10(1 + calls/s) for the incoming calls from
 *   other contexts: ten times the traffic, two more points.
 * - A unit of work spanning two contexts (one transaction writing two schemas) cannot survive the
 *   split at all: 10 per module doing so, a blocker rather than a cost.
 * - Events already travel through the outbox and the relay, which publishes to Kafka as easily as
 *   in-process: 0.5 per event type consumed from others, 0.75 per (event type, consuming
 *   context) pair it produces, because those consumers then depend on the broker for its facts.
 * - Data has to be copied into the new database: 2·log10(1 + MB) (1 GB ≈ 6 points); unknown
 *   without a database URL, and then it adds nothing, which the explanation says.
 */
export const PLAN_WEIGHTS = {
  callingContext: 3,
  methodCalledByContext: 1,
  methodCalledByEdge: 0.25,
  calledContext: 2,
  methodCalled: 1,
  chattyMethodBeyondFirst: 1.5,
  logCallsPerSecond: 2,
  sharedTransaction: 10,
  eventConsumed: 0.5,
  eventProducedPerConsumer: 0.75,
  logMegabytes: 2,
} as const;

export interface PlanFactor {
  /** `incoming-sync`, `outgoing-sync`, `chatty-pairs`, `shared-transactions`, `events`, `data-size`. */
  readonly factor: string;
  readonly points: number;
  /** The facts behind the points, in words. */
  readonly explanation: string;
}

export interface PlannedContext {
  readonly context: string;
  readonly rank: number;
  /** Sum of the factors' points; lower is cheaper and safer to extract. */
  readonly score: number;
  readonly factors: readonly PlanFactor[];
  readonly facts: {
    readonly callingContexts: readonly string[];
    readonly methodsCalledByContexts: number;
    readonly methodsCalledByEdge: number;
    readonly incomingCallsPerSecond?: number;
    readonly incomingCalls?: number;
    readonly calledContexts: readonly string[];
    readonly eventsConsumed: number;
    readonly eventsProduced: number;
    readonly eventConsumers: readonly string[];
    readonly sharedTransactions: number;
    readonly dataBytes: number | 'unknown';
  };
}

export interface ExtractionPlan {
  /** The target the candidates are still in. */
  readonly from: string;
  readonly ranking: readonly PlannedContext[];
  /** Contexts already running elsewhere, not ranked. */
  readonly elsewhere: readonly { readonly context: string; readonly target: string }[];
  readonly firstStep?: { readonly command: string; readonly context: string; readonly why: string };
  readonly weights: typeof PLAN_WEIGHTS;
  readonly notes: readonly string[];
}

export interface PlanInput {
  readonly graph: ModuleGraph;
  /** The contexts still in the monolith's target. */
  readonly candidates: readonly string[];
  readonly from: string;
  readonly elsewhere?: readonly { readonly context: string; readonly target: string }[];
  readonly rates?: CallRates;
  /** Bytes per context schema (pg_total_relation_size); absent: unknown. */
  readonly dataBytes?: Readonly<Record<string, number>>;
  /** ficus verify's findings that mean a transaction spans contexts (SQL or entities on another schema). */
  readonly crossSchemaWrites: readonly BoundaryViolation[];
}

/** Ranks the candidates by cost of extraction (pure): cheapest first, ties by name. */
export function planExtraction(input: PlanInput): ExtractionPlan {
  const { graph, rates } = input;
  const w = PLAN_WEIGHTS;
  const planned = input.candidates.map((context) => {
    const incoming = graph.sync.filter((edge) => edge.to === context);
    const fromContexts = incoming.filter((edge) => edge.from !== EDGE);
    const fromEdge = incoming.filter((edge) => edge.from === EDGE);
    const outgoing = graph.sync.filter((edge) => edge.from === context);
    const callingContexts = unique(fromContexts.map((edge) => edge.from));
    const methodsCalledByContexts = sum(fromContexts.map((edge) => Math.max(edge.methods.length, 1)));
    const methodsCalledByEdge = sum(fromEdge.map((edge) => edge.methods.length));
    const calledContexts = unique(outgoing.map((edge) => edge.to));
    const methodsCalled = sum(outgoing.map((edge) => Math.max(edge.methods.length, 1)));
    const factors: PlanFactor[] = [];

    // Incoming sync calls.
    const incomingRate = rates
      ? sum(fromContexts.map((edge) => rates.edges[edgeKey(edge)]?.perSecond ?? 0))
      : undefined;
    const incomingCalls = rates ? sum(fromContexts.map((edge) => rates.edges[edgeKey(edge)]?.total ?? 0)) : undefined;
    const ratePoints =
      incomingRate !== undefined && rates!.sampleSeconds > 0 ? w.logCallsPerSecond * Math.log10(1 + incomingRate) : 0;
    factors.push({
      factor: 'incoming-sync',
      points: round(
        callingContexts.length * w.callingContext +
          methodsCalledByContexts * w.methodCalledByContext +
          methodsCalledByEdge * w.methodCalledByEdge +
          ratePoints,
      ),
      explanation:
        (callingContexts.length
          ? `called by ${callingContexts.join(', ')} ` +
            `(${fromContexts.map((edge) => `${edge.from}: ${methodsOf(edge)}`).join('; ')}): ` +
            `those calls become remote`
          : 'no other context calls it synchronously') +
        `; the HTTP edge calls ${methodsCalledByEdge} method${methodsCalledByEdge === 1 ? '' : 's'} (already a ` +
        `gRPC client per contract in split mode)` +
        (incomingCalls !== undefined
          ? rates!.sampleSeconds > 0
            ? `; metrics: ${incomingCalls} calls from contexts, ${round(incomingRate!)}/s`
            : `; metrics: ${incomingCalls} calls from contexts since start (no rate: one scrape)`
          : ''),
    });

    // Outgoing sync calls.
    factors.push({
      factor: 'outgoing-sync',
      points: round(calledContexts.length * w.calledContext + methodsCalled * w.methodCalled),
      explanation: calledContexts.length
        ? `calls ${outgoing.map((edge) => `${edge.to} (${methodsOf(edge)})`).join(', ')}: ` +
          `each call becomes a network hop from the new process`
        : 'calls no other context: nothing of its own becomes remote',
    });

    // Chatty pairs: the busiest pair this context is part of, either direction, edge left out.
    const pairs = graph.sync.filter((edge) => edge.from !== EDGE && (edge.from === context || edge.to === context));
    const busiest = pairs
      .map((edge) => ({
        edge,
        methods: Math.max(edge.methods.length, 1),
        perSecond: rates?.edges[edgeKey(edge)]?.perSecond ?? 0,
      }))
      .sort((a, b) => b.perSecond - a.perSecond || b.methods - a.methods)[0];
    factors.push({
      factor: 'chatty-pairs',
      points: busiest
        ? round(
            (busiest.methods - 1) * w.chattyMethodBeyondFirst + w.logCallsPerSecond * Math.log10(1 + busiest.perSecond),
          )
        : 0,
      explanation: busiest
        ? `busiest pair ${busiest.edge.from} → ${busiest.edge.to}: ${busiest.methods} ` +
          `method${busiest.methods === 1 ? '' : 's'}` +
          (rates?.sampleSeconds
            ? `, ${busiest.perSecond}/s`
            : rates
              ? ', no rate (one scrape)'
              : ', no metrics given') +
          (busiest.methods === 1 && !busiest.perSecond ? ': not chatty' : '')
        : 'no sync pair with another context: nothing chatty',
    });

    // Shared transactions.
    const spanning = input.crossSchemaWrites.filter(
      (violation) => violation.file.startsWith(`modules/${context}/`) || violation.problem.includes(`"${context}"`),
    );
    factors.push({
      factor: 'shared-transactions',
      points: spanning.length * w.sharedTransaction,
      explanation: spanning.length
        ? `${spanning.length} place${spanning.length === 1 ? '' : 's'} where one unit of work touches two ` +
          `schemas: ${spanning.map((v) => `${v.file}:${v.line}`).join(', ')}; fix them first (ficus verify)`
        : "0: each unit of work opens one context's DataSource (FicusModule.forContext gives every module its " +
          'own, as its own role), and ficus verify finds no SQL or entity on another schema',
    });

    // Events in and out.
    const consumed = graph.async.filter((edge) => edge.to === context);
    const produced = graph.async.filter((edge) => edge.from === context);
    const eventsConsumed = unique(consumed.flatMap((edge) => edge.events)).length;
    const producedPairs = sum(produced.map((edge) => edge.events.length));
    const lag = rates ? sum([...consumed, ...produced].map((edge) => rates.lag[edgeKey(edge)] ?? 0)) : 0;
    factors.push({
      factor: 'events',
      points: round(eventsConsumed * w.eventConsumed + producedPairs * w.eventProducedPerConsumer),
      explanation:
        `consumes ${eventsConsumed} event type${eventsConsumed === 1 ? '' : 's'}` +
        (consumed.length ? ` from ${unique(consumed.map((edge) => edge.from)).join(', ')}` : '') +
        `; ${
          producedPairs
            ? `${producedPairs} (event, consumer) pair${producedPairs === 1 ? '' : 's'} out, to ` +
              `${unique(produced.map((edge) => edge.to)).join(', ')}`
            : 'no other context consumes its events'
        }` +
        '; events already leave through its outbox, so only the transport changes (Kafka)' +
        (lag ? `; consumer lag now ${lag}` : ''),
    });

    // Data size.
    const bytes = input.dataBytes?.[context];
    factors.push({
      factor: 'data-size',
      points: bytes === undefined ? 0 : round(w.logMegabytes * Math.log10(1 + bytes / 1_048_576)),
      explanation:
        bytes === undefined
          ? 'unknown (give --database-url to measure the schema): counted as 0'
          : `schema "${context}" holds ${formatBytes(bytes)} (pg_total_relation_size of its tables and ` +
            `indexes) to copy into the new database`,
    });

    return {
      context,
      score: round(sum(factors.map((factor) => factor.points))),
      factors,
      facts: {
        callingContexts,
        methodsCalledByContexts,
        methodsCalledByEdge,
        ...(incomingCalls !== undefined ? { incomingCalls } : {}),
        ...(incomingRate !== undefined && rates!.sampleSeconds > 0
          ? { incomingCallsPerSecond: round(incomingRate) }
          : {}),
        calledContexts,
        eventsConsumed,
        eventsProduced: producedPairs,
        eventConsumers: unique(produced.map((edge) => edge.to)),
        sharedTransactions: spanning.length,
        dataBytes: bytes ?? ('unknown' as const),
      },
    };
  });
  planned.sort((a, b) => a.score - b.score || a.context.localeCompare(b.context));
  const ranking = planned.map((entry, index) => ({ ...entry, rank: index + 1 }));
  const best = ranking[0];
  const notes: string[] = [];
  if (!input.dataBytes) notes.push('data size unknown: pass --database-url to weigh each schema');
  if (!rates) notes.push('no call rates: pass --metrics <url> of the running processes to weigh traffic');
  return {
    from: input.from,
    ranking,
    elsewhere: input.elsewhere ?? [],
    firstStep: best
      ? { command: `ficus extract ${best.context}`, context: best.context, why: whyFirst(best, ranking[1]) }
      : undefined,
    weights: PLAN_WEIGHTS,
    notes,
  };
}

function whyFirst(best: PlannedContext, next: PlannedContext | undefined): string {
  const facts = best.facts;
  const reasons = [
    facts.callingContexts.length
      ? `only ${facts.callingContexts.join(', ')} call${facts.callingContexts.length === 1 ? 's' : ''} it`
      : 'no other context calls it synchronously',
    facts.calledContexts.length ? `it calls ${facts.calledContexts.join(', ')}` : 'it calls no other context',
    facts.eventConsumers.length
      ? `${facts.eventConsumers.join(', ')} consume its events`
      : 'no context waits on its events',
    facts.sharedTransactions
      ? `${facts.sharedTransactions} shared transaction(s) to undo first`
      : 'no transaction spans it and another context',
  ];
  return (
    `${best.context} is the cheapest to move (score ` +
    `${best.score}${next ? ` against ${next.score} for ${next.context}` : ''}): ${reasons.join(', ')}. ` +
    `Extracting it runs it beside the monolith first, so calls can be shifted (ficus shift) or shadowed (ficus ` +
    `shadow) before the in-process copy is retired.`
  );
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1_048_576) return `${round(bytes / 1024)} kB`;
  return `${round(bytes / 1_048_576)} MB`;
}

/** The methods an edge's caller calls, as the source shows them. */
function methodsOf(edge: { readonly methods: readonly string[] }): string {
  return edge.methods.join(', ') || 'methods not visible';
}
