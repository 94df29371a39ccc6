import { edgeKey, type CallRates, type EdgeCalls } from './call-rates';
import { EDGE, type ModuleGraph } from './module-graph';

/** The graph as `ficus graph` prints it: one line per context, per call edge, per event edge. */
export function renderText(graph: ModuleGraph, rates?: CallRates): string {
  const width = Math.max(...graph.contexts.map((node) => node.name.length), EDGE.length);
  const lines: string[] = [
    `module graph: ${graph.contexts.length} contexts, ${graph.sync.length} sync edges (contract calls), ` +
      `${graph.async.length} async edges (events)`,
    '',
    'contexts',
  ];
  for (const node of graph.contexts) {
    const where = node.target ? `  [target ${node.target}]` : '';
    lines.push(
      `  ${node.name.padEnd(width)}  serves ${node.serves.join(', ') || 'nothing'}; publishes ` +
        `${plural(node.publishes.length, 'event type')}, consumes ${node.consumes.length}${where}`,
    );
  }
  lines.push('', 'sync: caller → callee  contract: methods  [calls]');
  for (const edge of graph.sync) {
    const calls = rates?.edges[edgeKey(edge)];
    lines.push(
      `  ${edge.from.padStart(width)} → ${edge.to.padEnd(width)}  ${edge.contract}: ` +
        `${
          edge.methods.join(', ') || '(methods not visible ' + 'in the source)'
        }${calls ? `  [${describeCalls(calls)}]` : ''}`,
    );
  }
  lines.push('', 'async: producer ⇢ consumer  events (through the producer’s outbox)');
  for (const edge of graph.async) {
    const lag = rates?.lag[edgeKey(edge)];
    lines.push(
      `  ${edge.from.padStart(width)} ⇢ ${edge.to.padEnd(width)}  ` +
        `${edge.events.join(', ')}${lag !== undefined ? `  [lag ${lag}]` : ''}`,
    );
  }
  if (rates) {
    lines.push(
      '',
      rates.sampleSeconds > 0
        ? `calls: ficus_contract_calls_total from ${rates.sources.join(', ')}, totals and calls/s over ` +
            `${rates.sampleSeconds} s`
        : `calls: ficus_contract_calls_total from ${rates.sources.join(', ')}, totals since start (--sample-seconds 0)`,
      'shared: another caller calls the same method; the metric has no caller label, so the count is an upper bound',
    );
    const unattributed = Object.entries(rates.unattributed);
    if (unattributed.length)
      lines.push(`not on any edge: ${unattributed.map(([key, count]) => `${key} ${count}`).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `12 calls, 0.4/s, 25 % failing, 3 failed, shared` */
export function describeCalls(calls: EdgeCalls): string {
  const parts = [`${calls.total} call${calls.total === 1 ? '' : 's'}`];
  if (calls.perSecond !== undefined) parts.push(`${calls.perSecond}/s`);
  if (calls.failingPercent) parts.push(`${calls.failingPercent} % failing`);
  if (calls.errors) parts.push(`${calls.errors} failed`);
  if (calls.attribution === 'shared') parts.push('shared');
  return parts.join(', ');
}

/** A Mermaid flowchart: solid arrows for calls, dotted for events, a subgraph per deploy target. */
export function renderMermaid(graph: ModuleGraph, rates?: CallRates): string {
  const lines = ['flowchart LR', `  ${mermaidId(EDGE)}([HTTP edge])`];
  const byTarget = new Map<string | undefined, string[]>();
  for (const node of graph.contexts) byTarget.set(node.target, [...(byTarget.get(node.target) ?? []), node.name]);
  for (const [target, names] of byTarget) {
    if (target) lines.push(`  subgraph ${mermaidId(`target_${target}`)}["target ${target}"]`);
    for (const name of names) lines.push(`${target ? '    ' : '  '}${mermaidId(name)}[${name}]`);
    if (target) lines.push('  end');
  }
  for (const edge of graph.sync) {
    const calls = rates?.edges[edgeKey(edge)];
    const label = [edge.methods.join(', '), calls ? describeCalls(calls) : ''].filter(Boolean).join(' · ');
    lines.push(`  ${mermaidId(edge.from)} -- "${mermaidText(label || edge.contract)}" --> ${mermaidId(edge.to)}`);
  }
  for (const edge of graph.async) {
    lines.push(
      `  ${mermaidId(edge.from)} -. "${mermaidText(edge.events.map(shortEvent).join(', '))}" .-> ${mermaidId(edge.to)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Graphviz DOT, for the pictures: a cluster per deploy target, calls solid and blue, events dashed. */
export function renderDot(graph: ModuleGraph, rates?: CallRates): string {
  const lines = [
    'digraph ficus {',
    '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.4, ranksep=1.1, label="ficus module ' +
      'graph: solid = contract calls, dashed = events", labelloc=t];',
    '  node [shape=box, style="rounded,filled", fillcolor="#eef5ea", color="#4d7a3a", ' +
      'fontname="Helvetica", fontsize=12];',
    '  edge [fontname="Helvetica", fontsize=9];',
    `  ${dotId(EDGE)} [label="HTTP edge", shape=ellipse, fillcolor="#f2f2f2", color="#777777"];`,
  ];
  const byTarget = new Map<string | undefined, string[]>();
  for (const node of graph.contexts) byTarget.set(node.target, [...(byTarget.get(node.target) ?? []), node.name]);
  for (const [target, names] of byTarget) {
    if (target)
      lines.push(
        `  subgraph ${dotId(`cluster_${target}`)} {`,
        `    label=${dotId(`target ${target}`)}; style=dashed; color="#999999";`,
      );
    for (const name of names) lines.push(`${target ? '    ' : '  '}${dotId(name)};`);
    if (target) lines.push('  }');
  }
  for (const edge of graph.sync) {
    const calls = rates?.edges[edgeKey(edge)];
    const label = [edge.methods.join('\n'), calls ? describeCalls(calls) : ''].filter(Boolean).join('\n');
    lines.push(
      `  ${dotId(edge.from)} -> ${dotId(edge.to)} [label=${dotId(label)}, color="#1f5fa8", fontcolor="#1f5fa8"];`,
    );
  }
  for (const edge of graph.async) {
    lines.push(
      `  ${dotId(edge.from)} -> ${dotId(edge.to)} [label=${dotId(edge.events.map(shortEvent).join('\n'))}, ` +
        `style=dashed, color="#a0661a", fontcolor="#a0661a"];`,
    );
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * SVG through Graphviz compiled to WebAssembly (@viz-js/viz, ADR 0033): no native Graphviz to
 * install. The XML prolog is dropped so that the file starts with `<svg`, ready to inline.
 */
export async function renderSvg(dot: string): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  const svg = viz.renderString(dot, { format: 'svg', engine: 'dot' });
  return svg.slice(svg.indexOf('<svg'));
}

/** PNG from the SVG with resvg (@resvg/resvg-js, prebuilt per platform, ADR 0033), at twice the size. */
export async function renderPng(svg: string): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  const picture = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return Buffer.from(picture.render().asPng());
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function shortEvent(key: string): string {
  return key.slice(key.indexOf('.') + 1);
}

function dotId(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A node id Mermaid cannot mistake for a keyword (`end`, and `edge` read oddly): ids get a prefix. */
function mermaidId(text: string): string {
  return text === EDGE ? 'http_edge' : text.replace(/[^A-Za-z0-9_]/g, '_');
}

function mermaidText(text: string): string {
  return text.replace(/"/g, '#quot;');
}
