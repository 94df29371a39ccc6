import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

/** The parts of a V8 `.cpuprofile` (Profiler.stop) a flame graph needs. */
export interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }>;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

interface Frame {
  readonly name: string;
  readonly kind: string;
  readonly depth: number;
  readonly start: number;
  readonly end: number;
  readonly share: number;
}

/** Where a frame's code lives: ficus's own folders, a package, Node itself, or the VM. */
export function kindOf(url: string, name: string): string {
  if (!url) return name === '(garbage collector)' ? 'garbage collector' : 'native (system calls, V8)';
  const ficus = /\/(infra|modules|apps|contracts)\//.exec(url);
  if (ficus && !url.includes('node_modules')) return `ficus ${ficus[1]}`;
  if (url.includes('node_modules/pg') || url.includes('node_modules/typeorm')) return 'pg, typeorm';
  if (url.includes('node_modules/kafkajs')) return 'kafkajs';
  if (url.includes('node_modules/@grpc') || url.includes('node:internal/http2')) return 'grpc-js, http2';
  if (url.includes('node_modules')) return 'other packages';
  return 'node internals';
}

/**
 * The profile as frames of a flame graph: each call path's share of the busy samples (idle left
 * out), laid out root at the bottom, children side by side on their parent; frames thinner than
 * `minShare` are dropped (they would be invisible).
 */
export function flameFrames(profile: CpuProfile, minShare = 0.002): Frame[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totals = new Map<number, number>();
  const total = (id: number): number => {
    const known = totals.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const sum = (self.get(id) ?? 0) + (node.children ?? []).reduce((acc, child) => acc + total(child), 0);
    totals.set(id, sum);
    return sum;
  };
  const root = profile.nodes[0];
  const busy = (root.children ?? []).filter((id) => byId.get(id)!.callFrame.functionName !== '(idle)');
  const busyTotal = busy.reduce((acc, id) => acc + total(id), 0) || 1;
  const frames: Frame[] = [];
  const place = (ids: readonly number[], depth: number, start: number) => {
    let offset = start;
    for (const id of [...ids].sort((a, b) => total(b) - total(a))) {
      const share = total(id) / busyTotal;
      if (share < minShare) continue;
      const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
      const where = url
        ? ` ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(infra|modules|apps|contracts)\//, '$1/')}:${lineNumber + 1}`
        : '';
      frames.push({
        name: `${functionName || '(anonymous)'}${where}`,
        kind: kindOf(url, functionName),
        depth,
        start: offset,
        end: offset + share,
        share,
      });
      place(byId.get(id)!.children ?? [], depth + 1, offset);
      offset += share;
    }
  };
  place(busy, 0, 0);
  return frames;
}

const KINDS = [
  'ficus infra',
  'ficus modules',
  'ficus apps',
  'ficus contracts',
  'pg, typeorm',
  'kafkajs',
  'grpc-js, http2',
  'other packages',
  'node internals',
  'native (system calls, V8)',
  'garbage collector',
];
const COLORS = [
  '#2a9d8f',
  '#52b788',
  '#95d5b2',
  '#b7e4c7',
  '#e9c46a',
  '#f4a261',
  '#e76f51',
  '#d62828',
  '#8d99ae',
  '#6d6875',
  '#b5838d',
];

/** A flame graph of `profile` as SVG: every busy call path, root at the bottom, colored by where its code lives. */
export async function flameGraphSvg(profile: CpuProfile, title: string): Promise<string> {
  const frames = flameFrames(profile);
  const depth = Math.max(1, ...frames.map((frame) => frame.depth + 1));
  const rowHeight = 14;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, font: 'Helvetica, Arial, sans-serif' },
    width: 1100,
    height: depth * rowHeight,
    data: {
      values: frames.map((frame) => ({
        ...frame,
        label: frame.share > 0.04 ? frame.name.slice(0, Math.floor(frame.share * 160)) : '',
        percent: `${(frame.share * 100).toFixed(1)} %`,
      })),
    },
    encoding: {
      x: {
        field: 'start',
        type: 'quantitative',
        scale: { domain: [0, 1] },
        axis: { format: '%', title: "share of the process's busy samples" },
      },
      y: { field: 'depth', type: 'ordinal', sort: 'descending', axis: null },
    },
    layer: [
      {
        mark: { type: 'bar', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x2: { field: 'end' },
          color: {
            field: 'kind',
            type: 'nominal',
            scale: { domain: KINDS, range: COLORS },
            legend: { title: null, orient: 'bottom', columns: 4 },
          },
          tooltip: [{ field: 'name' }, { field: 'percent' }],
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 2, fontSize: 9, font: 'Helvetica, Arial, sans-serif' },
        encoding: { text: { field: 'label' } },
      },
    ],
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return `${svg}\n`;
}

/** Busy share (idle left out) of each kind of code in the profile, largest first. */
export function sharesByKind(profile: CpuProfile): Array<{ kind: string; share: number }> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const sums = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const { functionName, url } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') return;
    const delta = profile.timeDeltas[i] ?? 0;
    busy += delta;
    const kind = kindOf(url, functionName);
    sums.set(kind, (sums.get(kind) ?? 0) + delta);
  });
  return [...sums].map(([kind, sum]) => ({ kind, share: sum / (busy || 1) })).sort((a, b) => b.share - a.share);
}
