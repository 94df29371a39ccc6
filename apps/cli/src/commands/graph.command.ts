import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  buildModuleGraph,
  GRAPH_SOURCE_FOLDERS,
  placeContexts,
  progressLines,
  readSourceTree,
  renderDot,
  renderMermaid,
  renderPng,
  renderSvg,
  renderText,
  REPOSITORY_ROOT,
  sampleCallRates,
  targetOfContext,
  type CallRates,
  type ModuleGraph,
} from '@infra/module-graph';
import { loadTopology, SHIPPED_TOPOLOGIES, shippedTopologyPath, TopologyError } from '@infra/topology';
import { CliError, type CliCommand, type CliIo } from '../cli-command';
import { contextDeclarations } from '../context-declarations';

const FORMATS = ['text', 'mermaid', 'dot', 'svg', 'png'] as const;
type Format = (typeof FORMATS)[number];

export interface GraphOptions {
  readonly format: string;
  readonly out?: string;
  readonly metrics: string[];
  readonly sampleSeconds: string;
  readonly topology?: string;
  readonly root?: string;
  readonly json?: boolean;
}

/**
 * `ficus graph`: step 2 of the migration guide (docs/migration-guide.md). The module graph read
 * from the source, placed on a topology's targets, with call counts and rates from /metrics.
 */
export const command: CliCommand = {
  name: 'graph',
  register(program, io) {
    program
      .command('graph')
      .description(
        'show the module graph: contract calls (sync) and events (async) between contexts, with call rates ' +
          'from running processes',
      )
      .option('--format <format>', `text | mermaid | dot | svg | png`, 'text')
      .option('--out <file>', 'write the graph to this file instead of stdout (needed for png)')
      .option(
        '--metrics <url...>',
        'the /metrics URL (or base URL) of each running process, to put call counts and rates on the edges',
        collect,
        [],
      )
      .option('--sample-seconds <n>', 'seconds between the two scrapes a rate needs; 0 for totals since start', '5')
      .option(
        '--topology <file>',
        'a topology YAML file or a shipped one (monolith, split, hybrid): which target hosts each context',
      )
      .option(
        '--root <dir>',
        'the tree whose source shows the calls (default: this repository); the contexts are this build’s',
      )
      .option('--json', 'print the graph (and rates) as JSON')
      .addHelpText(
        'after',
        `
Nodes are the contexts of modules/ (and the HTTP edge, which calls them). A sync edge is a
contract a module holds a client of (FicusModule.forContext({ uses }) or @Inject(<TOKEN>)),
labelled with the methods it calls; an async edge is an event a module consumes
(runtime.consume), from the context its type is prefixed with.

With --metrics, ficus_contract_calls_total of each process is scraped twice, --sample-seconds
apart, and each call edge gets its total and calls/s. The metric has no caller label: a method
two callers share is marked "shared" (an upper bound for each).

Examples:
  ficus graph
  ficus graph --format mermaid --topology split
  ficus graph --metrics http://127.0.0.1:3000 --sample-seconds 10
  ficus graph --format png --out graph.png`,
      )
      .action((options: GraphOptions) => runGraph(options, io));
  },
};

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function runGraph(options: GraphOptions, io: CliIo): Promise<void> {
  const format = options.format as Format;
  if (!FORMATS.includes(format)) throw new CliError(`--format takes ${FORMATS.join(', ')}, not ${options.format}`, 2);
  if (format === 'png' && !options.out && !options.json)
    throw new CliError('--format png writes a binary picture: give --out <file>.png', 2);
  const sampleSeconds = Number(options.sampleSeconds);
  if (!Number.isFinite(sampleSeconds) || sampleSeconds < 0)
    throw new CliError(`--sample-seconds takes a number of seconds ≥ 0, not ${options.sampleSeconds}`, 2);

  const root = resolve(options.root ?? REPOSITORY_ROOT);
  const progress = progressLines(io.err, 'graph', options.json === true);
  progress.step(`reading ${GRAPH_SOURCE_FOLDERS.join(', ')}`);
  let graph: ModuleGraph = buildModuleGraph(contextDeclarations(root), readSourceTree(root, GRAPH_SOURCE_FOLDERS));
  if (options.topology) graph = placeContexts(graph, targetOfContext(loadNamedTopology(options.topology, io)));

  let rates: CallRates | undefined;
  if (options.metrics.length) {
    progress.step(
      sampleSeconds > 0
        ? `scraping ${options.metrics.length} process(es) twice, ${sampleSeconds} s apart`
        : `scraping ${options.metrics.length} process(es) once (totals)`,
    );
    try {
      rates = await sampleCallRates(graph, options.metrics, sampleSeconds);
    } catch (error) {
      throw new CliError(error instanceof Error ? error.message : String(error));
    }
  }

  let rendered: string | Buffer;
  if (format === 'text') rendered = renderText(graph, rates);
  else if (format === 'mermaid') rendered = renderMermaid(graph, rates);
  else if (format === 'dot') rendered = renderDot(graph, rates);
  else {
    progress.step('rendering the picture (Graphviz in WebAssembly' + (format === 'png' ? ', then resvg' : '') + ')');
    const svg = await renderSvg(renderDot(graph, rates));
    rendered = format === 'svg' ? svg : await renderPng(svg);
  }
  progress.done(`${graph.contexts.length} contexts, ${graph.sync.length} sync and ${graph.async.length} async edges`);

  if (options.out) {
    writeFileSync(options.out, rendered);
  }
  if (options.json) {
    const written = options.out ? { written: { format, file: options.out } } : {};
    io.out(`${JSON.stringify({ ...graph, ...(rates ? { calls: rates } : {}), ...written }, null, 2)}\n`);
  } else if (options.out) {
    io.out(`wrote the module graph as ${format} to ${options.out}\n`);
  } else {
    io.out(typeof rendered === 'string' ? rendered : rendered.toString('base64'));
  }
}

/** A path, or the name of a shipped topology (monolith, split, hybrid). */
export function loadNamedTopology(nameOrFile: string, io: CliIo) {
  const path = (SHIPPED_TOPOLOGIES as readonly string[]).includes(nameOrFile)
    ? shippedTopologyPath(nameOrFile as (typeof SHIPPED_TOPOLOGIES)[number])
    : resolve(nameOrFile);
  try {
    return loadTopology(path, { env: io.env });
  } catch (error) {
    if (error instanceof TopologyError) throw new CliError(error.message, 2);
    throw error;
  }
}
