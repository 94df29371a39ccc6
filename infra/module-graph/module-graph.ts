import { ContractCatalogue, eventKeyOf, type ContractExport } from './contract-catalogue';
import { contextsOf, type SourceFile } from './source-tree';
import { calleePath, parseSource, propertyOf, ts, type ParsedSource } from './typescript-source';

/** The caller that is no context: the HTTP edge (apps/http-edge), which calls every context's contract. */
export const EDGE = 'edge';

/** Where in the source an edge was found. */
export interface SourceSite {
  readonly file: string;
  readonly line: number;
}

export interface ContextNode {
  readonly name: string;
  /** Contracts it serves (`runtime.serve`), by full name. */
  readonly serves: readonly string[];
  /** Event keys (`type.vN`) it declares in contracts/<context>. */
  readonly publishes: readonly string[];
  /** Event keys of other contexts it consumes (`runtime.consume`). */
  readonly consumes: readonly string[];
  /** The deploy target hosting it, when a topology was given. */
  readonly target?: string;
}

/** A synchronous dependency: `from` calls `to`'s contract (through the bus, in-process or gRPC). */
export interface SyncEdge {
  readonly from: string;
  readonly to: string;
  readonly contract: string;
  /** The methods called, as far as the source shows (`this.<client>.<method>(`); sorted. */
  readonly methods: readonly string[];
  readonly sites: readonly SourceSite[];
}

/** An asynchronous dependency: `to` consumes events `from` publishes (through `from`'s outbox). */
export interface AsyncEdge {
  readonly from: string;
  readonly to: string;
  /** Event keys, sorted. */
  readonly events: readonly string[];
  readonly sites: readonly SourceSite[];
}

export interface ModuleGraph {
  readonly contexts: readonly ContextNode[];
  readonly sync: readonly SyncEdge[];
  readonly async: readonly AsyncEdge[];
}

/** The folders whose sources the graph is read from. */
export const GRAPH_SOURCE_FOLDERS = ['modules', 'contracts', 'apps/http-edge/src'] as const;

/**
 * The module graph of a tree, read from its source (pure: the files are given):
 * - a node per `modules/<context>`;
 * - a sync edge where a module (or the HTTP edge) holds a client of another context's contract:
 *   `FicusModule.forContext({ uses: [XContract] })` or `@Inject(X_TOKEN)`, with the methods it
 *   calls on that client;
 * - an async edge where a module declares it consumes an event whose type is prefixed by another
 *   context, the producer: `forContext({ consumes: [[Event, Handler], …] })`; what it serves
 *   comes from `forContext({ serves: [Contract, Implementation] })`.
 */
export function buildModuleGraph(files: readonly SourceFile[]): ModuleGraph {
  const catalogue = ContractCatalogue.read(files);
  const contexts = contextsOf(files);
  const sync = new Map<
    string,
    { from: string; to: string; contract: string; methods: Set<string>; sites: SourceSite[] }
  >();
  const async = new Map<string, { from: string; to: string; events: Set<string>; sites: SourceSite[] }>();
  const serves = new Map<string, Set<string>>(contexts.map((name) => [name, new Set<string>()]));
  const consumes = new Map<string, Set<string>>(contexts.map((name) => [name, new Set<string>()]));

  const addSync = (
    from: string,
    contract: { context: string; name: string },
    methods: readonly string[],
    site: SourceSite,
  ) => {
    if (from === contract.context) return;
    const key = `${from}→${contract.context}:${contract.name}`;
    const edge = sync.get(key) ?? {
      from,
      to: contract.context,
      contract: contract.name,
      methods: new Set<string>(),
      sites: [],
    };
    methods.forEach((method) => edge.methods.add(method));
    edge.sites.push(site);
    sync.set(key, edge);
  };

  for (const file of files) {
    const owner = ownerOf(file.path);
    if (!owner) continue;
    const source = parseSource(file);
    const resolve = (node: ts.Expression | undefined): ContractExport | undefined =>
      resolveContractExport(source, catalogue, node);
    const clients = new Map<string, { context: string; name: string; site: SourceSite }>();
    const calls: { client: string; method: string }[] = [];

    const each = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const path = calleePath(node);
        const last = path?.[path.length - 1];
        if (last === 'forContext' && node.arguments[0] && ts.isObjectLiteralExpression(node.arguments[0])) {
          const declared = node.arguments[0];
          const uses = propertyOf(declared, 'uses');
          if (uses && ts.isArrayLiteralExpression(uses)) {
            for (const element of uses.elements) {
              const used = resolve(element);
              if (used && used.kind !== 'event')
                addSync(owner, used.contract, [], { file: file.path, line: source.lineOf(element) });
            }
          }
          // serves: [Contract, Implementation]
          const served = firstOf(propertyOf(declared, 'serves'));
          const servedContract = served && resolve(served);
          if (servedContract && servedContract.kind !== 'event') serves.get(owner)?.add(servedContract.contract.name);
          // consumes: [[Event, Handler], …]
          const consumed = propertyOf(declared, 'consumes');
          if (consumed && ts.isArrayLiteralExpression(consumed)) {
            for (const pair of consumed.elements) {
              const event = resolve(firstOf(pair));
              if (event?.kind === 'event' && event.event.context !== owner) {
                const key = eventKeyOf(event.event);
                consumes.get(owner)?.add(key);
                const edgeKey = `${event.event.context}→${owner}`;
                const edge = async.get(edgeKey) ?? {
                  from: event.event.context,
                  to: owner,
                  events: new Set<string>(),
                  sites: [],
                };
                edge.events.add(key);
                edge.sites.push({ file: file.path, line: source.lineOf(pair) });
                async.set(edgeKey, edge);
              }
            }
          }
        } else if (path && path.length === 3 && path[0] === 'this') {
          calls.push({ client: path[1], method: path[2] });
        }
      }
      if (ts.isParameter(node) && ts.isIdentifier(node.name)) {
        for (const decorator of ts.getDecorators(node) ?? []) {
          const call = decorator.expression;
          if (!ts.isCallExpression(call) || calleePath(call)?.join('.') !== 'Inject') continue;
          const injected = resolve(call.arguments[0]);
          if (injected && injected.kind !== 'event') {
            clients.set(node.name.text, { ...injected.contract, site: { file: file.path, line: source.lineOf(node) } });
          }
        }
      }
      ts.forEachChild(node, each);
    };
    each(source.tree);

    for (const [client, contract] of clients) {
      const methods = calls.filter((call) => call.client === client).map((call) => call.method);
      addSync(owner, contract, methods, contract.site);
    }
  }

  const publishes = new Map<string, string[]>();
  for (const declared of catalogue.events) {
    publishes.set(declared.context, [...(publishes.get(declared.context) ?? []), eventKeyOf(declared)]);
  }
  const sorted = <T extends { from: string; to: string }>(edges: Iterable<T>) =>
    [...edges].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  return {
    contexts: contexts.map((name) => ({
      name,
      serves: [...(serves.get(name) ?? [])].sort(),
      publishes: (publishes.get(name) ?? []).sort(),
      consumes: [...(consumes.get(name) ?? [])].sort(),
    })),
    sync: sorted(sync.values()).map((edge) => ({
      ...edge,
      methods: [...edge.methods].sort(),
      sites: uniqueSites(edge.sites),
    })),
    async: sorted(async.values()).map((edge) => ({
      ...edge,
      events: [...edge.events].sort(),
      sites: uniqueSites(edge.sites),
    })),
  };
}

/** Places each context on the target that hosts it (`ficus graph --topology`). */
export function placeContexts(graph: ModuleGraph, targetOf: (context: string) => string | undefined): ModuleGraph {
  return { ...graph, contexts: graph.contexts.map((node) => ({ ...node, target: targetOf(node.name) })) };
}

/** The context (or the edge) a file belongs to. */
function ownerOf(path: string): string | undefined {
  if (path.startsWith('apps/http-edge/')) return EDGE;
  return /^modules\/([^/]+)\/src\//.exec(path)?.[1];
}

/** `CatalogContract`, `CATALOG` or `CatalogContract.token`, imported from a contract. */
function resolveContractExport(
  source: ParsedSource,
  catalogue: ContractCatalogue,
  node: ts.Expression | undefined,
): ContractExport | undefined {
  if (!node) return undefined;
  if (ts.isPropertyAccessExpression(node) && node.name.text === 'token')
    return resolveContractExport(source, catalogue, node.expression);
  if (!ts.isIdentifier(node)) return undefined;
  const imported = source.contractImports.get(node.text);
  return imported ? catalogue.lookup(imported.context, imported.exported) : undefined;
}

/** The first element of an array literal (`[Contract, Adapter]`, `[Event, Handler]`). */
function firstOf(node: ts.Expression | undefined): ts.Expression | undefined {
  return node && ts.isArrayLiteralExpression(node) ? node.elements[0] : undefined;
}

function uniqueSites(sites: readonly SourceSite[]): SourceSite[] {
  const seen = new Set<string>();
  return sites.filter(({ file, line }) => {
    const key = `${file}:${line}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
