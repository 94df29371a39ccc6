import { BOUNDED_CONTEXTS } from '@contracts/kernel';
import { planExtraction, PLAN_WEIGHTS, type ExtractionPlan, type ModuleGraph } from '@infra/module-graph';
import { ficus } from '../flags/flags-cli';
import { contextsBut } from '../support/contexts';

/** `ficus plan` (docs/migration-guide.md, step 3): contexts ranked by cost of extraction, each factor explained, a first step. */

const FACTORS = ['incoming-sync', 'outgoing-sync', 'chatty-pairs', 'shared-transactions', 'events', 'data-size'];

describe('ficus plan on the repository', () => {
  let plan: ExtractionPlan & { topology: string };

  beforeAll(async () => {
    const { code, out, err } = await ficus(['plan', '--json']);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    plan = JSON.parse(out) as typeof plan;
  });

  it('ranks every context of the monolith, each with a score and every factor explained', () => {
    expect(plan.topology).toBe('monolith');
    expect(plan.from).toBe('monolith');
    expect(plan.ranking.map((entry) => entry.context).sort()).toEqual([...BOUNDED_CONTEXTS].sort());
    expect(plan.ranking.map((entry) => entry.rank)).toEqual(BOUNDED_CONTEXTS.map((_, index) => index + 1));
    for (const entry of plan.ranking) {
      expect(entry.factors.map((factor) => factor.factor)).toEqual(FACTORS);
      for (const factor of entry.factors) expect(factor.explanation.length).toBeGreaterThan(10);
      expect(entry.score).toBeCloseTo(
        entry.factors.reduce((sum, factor) => sum + factor.points, 0),
        5,
      );
    }
    const scores = plan.ranking.map((entry) => entry.score);
    expect(scores).toEqual([...scores].sort((a, b) => a - b));
  });

  it('puts a leaf first (no context calls it, it calls none), ordering (the saga’s hub) last, and names the first step', () => {
    const [first] = plan.ranking;

    expect(first.facts).toMatchObject({ callingContexts: [], calledContexts: [], sharedTransactions: 0 });
    expect(plan.ranking[plan.ranking.length - 1].context).toBe('ordering');
    expect(plan.firstStep).toEqual({
      command: `ficus extract ${first.context}`,
      context: first.context,
      why: expect.stringContaining(`${first.context} is the cheapest to move`),
    });
  });

  it('explains that no transaction spans contexts, and that data size is unknown without a database', () => {
    const catalog = plan.ranking.find((entry) => entry.context === 'catalog')!;
    const factor = (name: string) => catalog.factors.find((f) => f.factor === name)!;

    expect(factor('shared-transactions')).toMatchObject({
      points: 0,
      explanation: expect.stringMatching(/^0: each unit of work opens one context's DataSource/),
    });
    expect(factor('data-size')).toMatchObject({ points: 0, explanation: expect.stringContaining('unknown') });
    expect(factor('incoming-sync').explanation).toContain('called by ordering (ordering: getProducts)');
    expect(catalog.facts.dataBytes).toBe('unknown');
  });

  it('with a topology where some contexts run elsewhere, ranks only those still in the shared target', async () => {
    const { code, out } = await ficus(['plan', '--topology', 'hybrid', '--json']);
    const hybrid = JSON.parse(out) as ExtractionPlan;

    expect(code).toBe(0);
    expect(hybrid.from).toBe('core');
    expect(hybrid.ranking.map((entry) => entry.context).sort()).toEqual(contextsBut('inventory', 'payments').sort());
    expect(hybrid.elsewhere).toEqual([
      { context: 'inventory', target: 'inventory' },
      { context: 'payments', target: 'payments' },
    ]);
  });

  it('text: the ranking with a line per factor, then the first step', async () => {
    const { code, out } = await ficus(['plan']);

    expect(code).toBe(0);
    expect(out).toMatch(/^extraction plan: contexts still in target monolith \(topology monolith\)/);
    expect(out).toMatch(/\n1\. [a-z]+ {2}score [\d.]+\n {5}incoming-sync +[\d.]+ {2}/);
    expect(out).toMatch(/\nfirst step: `ficus extract [a-z]+`\n {2}why: /);
  });
});

describe('the ranking (pure)', () => {
  const graph: ModuleGraph = {
    contexts: ['a', 'b', 'c'].map((name) => ({ name, serves: [], publishes: [], consumes: [] })),
    sync: [{ from: 'b', to: 'a', contract: 'a.v1.A', methods: ['get', 'list', 'count'], sites: [] }],
    async: [{ from: 'c', to: 'b', events: ['c.done.v1'], sites: [] }],
  };

  it('weighs each factor as documented: calls in, calls out, chatty pairs, events, data', () => {
    const plan = planExtraction({
      graph,
      candidates: ['a', 'b', 'c'],
      from: 'mono',
      crossSchemaWrites: [],
      dataBytes: { a: 0, b: 0, c: 9 * 1_048_576 },
    });
    const byName = Object.fromEntries(plan.ranking.map((entry) => [entry.context, entry]));
    const points = (context: string, factor: string) =>
      byName[context].factors.find((f) => f.factor === factor)!.points;

    expect(points('a', 'incoming-sync')).toBe(PLAN_WEIGHTS.callingContext + 3 * PLAN_WEIGHTS.methodCalledByContext);
    expect(points('b', 'outgoing-sync')).toBe(PLAN_WEIGHTS.calledContext + 3 * PLAN_WEIGHTS.methodCalled);
    expect(points('a', 'chatty-pairs')).toBe(2 * PLAN_WEIGHTS.chattyMethodBeyondFirst);
    expect(points('b', 'events')).toBe(PLAN_WEIGHTS.eventConsumed);
    expect(points('c', 'events')).toBe(PLAN_WEIGHTS.eventProducedPerConsumer);
    expect(points('c', 'data-size')).toBe(PLAN_WEIGHTS.logMegabytes); // 2 · log10(1 + 9 MB)
    expect(byName.c.factors.find((f) => f.factor === 'data-size')!.explanation).toContain('9 MB');
    expect(plan.firstStep?.command).toBe('ficus extract c');
  });

  it('makes a transaction spanning two schemas a blocker for both contexts, and traffic raise the cost', () => {
    const spanning = {
      rule: 'sql-touches-other-schema',
      file: 'modules/c/src/x.ts',
      line: 3,
      problem: 'SQL in module c touches a.items, a table of schema "a" that another context owns',
      fix: '',
    };
    const quiet = planExtraction({ graph, candidates: ['a', 'b', 'c'], from: 'mono', crossSchemaWrites: [] });
    const blocked = planExtraction({ graph, candidates: ['a', 'b', 'c'], from: 'mono', crossSchemaWrites: [spanning] });
    const busy = planExtraction({
      graph,
      candidates: ['a', 'b', 'c'],
      from: 'mono',
      crossSchemaWrites: [],
      rates: {
        sampleSeconds: 5,
        sources: [],
        unattributed: {},
        lag: {},
        edges: { 'b→a': { total: 500, errors: 0, perSecond: 99, attribution: 'sole', byMethod: {} } },
      },
    });
    const score = (plan: ExtractionPlan, context: string) =>
      plan.ranking.find((entry) => entry.context === context)!.score;

    expect(score(blocked, 'c') - score(quiet, 'c')).toBe(PLAN_WEIGHTS.sharedTransaction);
    expect(score(blocked, 'a') - score(quiet, 'a')).toBe(PLAN_WEIGHTS.sharedTransaction);
    expect(
      blocked.ranking.find((entry) => entry.context === 'c')!.factors.find((f) => f.factor === 'shared-transactions')!
        .explanation,
    ).toContain('modules/c/src/x.ts:3');
    // 99 calls/s between b and a: 2·log10(100) = 4 points for a's incoming calls, 4 more for the chatty pair
    expect(score(busy, 'a') - score(quiet, 'a')).toBe(2 * 2 * PLAN_WEIGHTS.logCallsPerSecond);
  });
});
