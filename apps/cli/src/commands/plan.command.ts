import { resolve } from 'node:path';
import {
  buildModuleGraph,
  checkModuleSources,
  contextsOf,
  GRAPH_SOURCE_FOLDERS,
  monolithPlacement,
  placeContexts,
  planExtraction,
  progressLines,
  readSourceTree,
  REPOSITORY_ROOT,
  sampleCallRates,
  schemaSizes,
  targetOfContext,
  type CallRates,
  type ExtractionPlan,
} from '@infra/module-graph';
import { CliError, type CliCommand, type CliIo } from '../cli-command';
import { withoutPassword } from '../deployment-database';
import { loadNamedTopology } from './graph.command';
import { contextDeclarations } from '../context-declarations';

interface PlanOptions {
  readonly topology: string;
  readonly metrics: string[];
  readonly sampleSeconds: string;
  readonly databaseUrl?: string;
  readonly root?: string;
  readonly json?: boolean;
}

/** Ficus's own checks whose findings mean one unit of work spans two contexts' schemas. */
const CROSS_SCHEMA_RULES = new Set(['sql-touches-other-schema', 'entity-in-other-schema']);

/**
 * `ficus plan`: step 3 of the migration guide (docs/migration-guide.md). Ranks the contexts still
 * in the monolith's target by how cheap and safe they are to extract, and names the first step.
 */
export const command: CliCommand = {
  name: 'plan',
  register(program, io) {
    program
      .command('plan')
      .description(
        'rank the contexts still in the monolith by how cheap and safe they are to extract, and name the first step',
      )
      .option(
        '--topology <file>',
        'the current topology: a YAML file or a shipped one (monolith, split, hybrid)',
        'monolith',
      )
      .option(
        '--metrics <url...>',
        'the /metrics URL (or base URL) of each running process, to weigh call rates',
        collect,
        [],
      )
      .option('--sample-seconds <n>', 'seconds between the two scrapes a rate needs; 0 for totals only', '5')
      .option('--database-url <url>', "the monolith's database (postgres://…), to weigh each context's data")
      .option(
        '--root <dir>',
        'the tree whose source shows the calls and schemas (default: this repository); the contexts are this build’s',
      )
      .option('--json', 'print the plan as JSON')
      .addHelpText(
        'after',
        `
Factors, each with its points and the facts behind them (weights in
infra/module-graph/extraction-plan.ts): incoming sync calls (contexts and methods calling it,
calls/s with --metrics), outgoing sync calls, the chattiest pair it is part of, transactions
spanning contexts (from ficus verify's schema checks), events consumed and produced, and the
size of its schema (with --database-url). Lowest score first.

Examples:
  ficus plan
  ficus plan --metrics http://127.0.0.1:3000 --database-url postgres://postgres:postgres@127.0.0.1:54329/ficus
  ficus plan --topology hybrid --json`,
      )
      .action((options: PlanOptions) => runPlan(options, io));
  },
};

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function runPlan(options: PlanOptions, io: CliIo): Promise<void> {
  const sampleSeconds = Number(options.sampleSeconds);
  if (!Number.isFinite(sampleSeconds) || sampleSeconds < 0)
    throw new CliError(`--sample-seconds takes a number of seconds ≥ 0, not ${options.sampleSeconds}`, 2);
  const root = resolve(options.root ?? REPOSITORY_ROOT);
  const progress = progressLines(io.err, 'plan', options.json === true);

  progress.step(`reading the module graph and checking schemas (${GRAPH_SOURCE_FOLDERS.join(', ')})`);
  const files = readSourceTree(root, GRAPH_SOURCE_FOLDERS);
  const topology = loadNamedTopology(options.topology, io);
  const graph = placeContexts(buildModuleGraph(contextDeclarations(root), files), targetOfContext(topology));
  const contexts = graph.contexts.map((node) => node.name);
  const moduleFiles = files.filter((file) => file.path.startsWith('modules/'));
  const crossSchemaWrites = checkModuleSources(moduleFiles, contextsOf(moduleFiles)).filter((violation) =>
    CROSS_SCHEMA_RULES.has(violation.rule),
  );
  const placement = monolithPlacement(topology, contexts);

  let rates: CallRates | undefined;
  if (options.metrics.length) {
    progress.step(
      sampleSeconds > 0
        ? `scraping ${options.metrics.length} process(es) twice, ${sampleSeconds} s apart`
        : `scraping ${options.metrics.length} process(es) once`,
    );
    try {
      rates = await sampleCallRates(graph, options.metrics, sampleSeconds);
    } catch (error) {
      throw new CliError(error instanceof Error ? error.message : String(error));
    }
  }
  let dataBytes: Record<string, number> | undefined;
  if (options.databaseUrl) {
    progress.step('measuring each schema (pg_total_relation_size)');
    try {
      dataBytes = await schemaSizes(options.databaseUrl, placement.candidates);
    } catch (error) {
      throw new CliError(
        `cannot measure the schemas at ${withoutPassword(options.databaseUrl)}: ` +
          `${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  const plan = planExtraction({
    graph,
    candidates: placement.candidates,
    from: placement.monolith,
    elsewhere: placement.elsewhere,
    rates,
    dataBytes,
    crossSchemaWrites,
  });
  progress.done(`${plan.ranking.length} context(s) ranked`);
  if (options.json) {
    io.out(`${JSON.stringify({ topology: topology.name, ...plan }, null, 2)}\n`);
    return;
  }
  io.out(formatPlan(plan, topology.name));
}

function formatPlan(plan: ExtractionPlan, topology: string): string {
  if (plan.ranking.length === 0)
    return `nothing left to extract: no context is still in a shared target of topology ${topology}\n`;
  const lines = [
    `extraction plan: contexts still in target ${plan.from} (topology ${topology}), cheapest and safest first ` +
      `(lower score = cheaper)`,
    '',
  ];
  for (const entry of plan.ranking) {
    lines.push(`${entry.rank}. ${entry.context}  score ${entry.score}`);
    for (const factor of entry.factors)
      lines.push(`     ${factor.factor.padEnd(19)} ${String(factor.points).padStart(5)}  ${factor.explanation}`);
    lines.push('');
  }
  if (plan.elsewhere.length)
    lines.push(
      `already extracted: ${plan.elsewhere.map(({ context, target }) => `${context} (target ${target})`).join(', ')}`,
      '',
    );
  for (const note of plan.notes) lines.push(`note: ${note}`);
  if (plan.firstStep) lines.push('', `first step: \`${plan.firstStep.command}\``, `  why: ${plan.firstStep.why}`);
  return `${lines.join('\n')}\n`;
}
