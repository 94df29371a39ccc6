import { ContractCatalogue, type ContractExport } from './contract-catalogue';
import type { SourceFile } from './source-tree';
import { calleePath, parseSource, ts, type ParsedSource } from './typescript-source';

/** The caller that is no context: the HTTP edge (apps/http-edge), which calls every context's contract. */
export const EDGE = 'edge';

/** Where in the source an edge was found. */
export interface SourceSite {
  readonly file: string;
  readonly line: number;
}

export interface ContextNode {
  readonly name: string;
  /** Contracts it serves (`forContext({ serves })`), by full name. */
  readonly serves: readonly string[];
  /**
   * The contract its GraphQL subgraph answers the gateway through when the context runs in another
   * process (`catalog.v1.CatalogSubgraphService`, ADR 0044), by full name; absent without a subgraph.
   */
  readonly subgraph?: string;
  /** Event keys (`type.vN`) its contract package exports. */
  readonly publishes: readonly string[];
  /** Event keys of other contexts it consumes (`forContext({ consumes })`). */
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

/** The folders whose sources the graph reads the calls from. */
export const GRAPH_SOURCE_FOLDERS = ['modules', 'contracts', 'apps/http-edge/src'] as const;

/**
 * What a context declares in `FicusModule.forContext` and publishes in its contract package, as
 * names: the host reads it from the loaded modules (`declaredContexts()`) and the contracts
 * (`CONTEXT_CONTRACTS`), not from their source text.
 */
export interface ContextDeclaration {
  readonly name: string;
  /** Contracts it serves, by full name. */
  readonly serves: readonly string[];
  /** Its subgraph's contract, by full name (ContextNode.subgraph). */
  readonly subgraph?: string;
  /** Contracts of other contexts it holds clients of (`uses`). */
  readonly uses: readonly { readonly context: string; readonly contract: string }[];
  /** Events it consumes: the producing context and the event key (`type.vN`). */
  readonly consumes: readonly { readonly context: string; readonly event: string }[];
  /** Event keys its contract package exports. */
  readonly publishes: readonly string[];
  /** Its module's file, where the declaration is. */
  readonly site: SourceSite;
}

/**
 * The module graph of a tree:
 * - a node per declared context, with what it serves, publishes and consumes, as declared;
 * - a sync edge where a context holds a client of another context's contract (`uses`), and
 *   where a module or the HTTP edge injects one (`@Inject(X_TOKEN)`); the methods come from the
 *   source (`this.<client>.<method>(`), the one thing no declaration says;
 * - an async edge from an event's producer to each context that declares it consumes it.
 */
export function buildModuleGraph(
  declarations: readonly ContextDeclaration[],
  files: readonly SourceFile[],
): ModuleGraph {
  const catalogue = ContractCatalogue.read(files);
  const sync = new Map<
    string,
    { from: string; to: string; contract: string; methods: Set<string>; sites: SourceSite[] }
  >();
  const async = new Map<string, { from: string; to: string; events: Set<string>; sites: SourceSite[] }>();

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

  for (const declared of declarations) {
    for (const used of declared.uses) {
      addSync(declared.name, { context: used.context, name: used.contract }, [], declared.site);
    }
    for (const consumed of declared.consumes) {
      if (consumed.context === declared.name) continue;
      const key = `${consumed.context}→${declared.name}`;
      const edge = async.get(key) ?? {
        from: consumed.context,
        to: declared.name,
        events: new Set<string>(),
        sites: [],
      };
      edge.events.add(consumed.event);
      edge.sites.push(declared.site);
      async.set(key, edge);
    }
  }

  // The methods called on each held client, and the clients the edge's controllers inject.
  for (const file of files) {
    const owner = ownerOf(file.path);
    if (!owner) continue;
    const source = parseSource(file);
    const clients = new Map<string, { context: string; name: string; site: SourceSite }>();
    const calls: { client: string; method: string }[] = [];
    const each = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const path = calleePath(node);
        if (path && path.length === 3 && path[0] === 'this') calls.push({ client: path[1], method: path[2] });
      }
      if (ts.isParameter(node) && ts.isIdentifier(node.name)) {
        for (const decorator of ts.getDecorators(node) ?? []) {
          const call = decorator.expression;
          if (!ts.isCallExpression(call) || calleePath(call)?.join('.') !== 'Inject') continue;
          const injected = resolveContractExport(source, catalogue, call.arguments[0]);
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

  const sorted = <T extends { from: string; to: string }>(edges: Iterable<T>) =>
    [...edges].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  return {
    contexts: [...declarations]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((declared) => ({
        name: declared.name,
        serves: [...declared.serves].sort(),
        ...(declared.subgraph ? { subgraph: declared.subgraph } : {}),
        publishes: [...declared.publishes].sort(),
        consumes: [...new Set(declared.consumes.filter((c) => c.context !== declared.name).map((c) => c.event))].sort(),
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

function uniqueSites(sites: readonly SourceSite[]): SourceSite[] {
  const seen = new Set<string>();
  return sites.filter(({ file, line }) => {
    const key = `${file}:${line}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
