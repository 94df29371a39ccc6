import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  attributeCalls,
  describeCalls,
  buildModuleGraph,
  consumerLag,
  countCalls,
  type ContextDeclaration,
  type ModuleGraph,
  type SourceFile,
} from '@infra/module-graph';
import { ALL_SUBGRAPHS } from '@contracts/contexts';
import { BOUNDED_CONTEXTS } from '@contracts/kernel';
import { parseExposition } from '@infra/observability';
import { loadTopology, shippedTopologyPath } from '@infra/topology';
import { ficus } from '../flags/flags-cli';

/** `ficus graph` (docs/migration-guide.md, step 2): the module graph from the source, as text, Mermaid, JSON and pictures. */

interface GraphJson extends ModuleGraph {
  written?: { format: string; file: string };
}

describe('the module graph from the declarations, with the calls read from the source (pure)', () => {
  // What the host reads from the loaded modules (forContext) and the contract packages.
  const declarations: ContextDeclaration[] = [
    {
      name: 'sales',
      serves: ['sales.v1.SalesService'],
      uses: [{ context: 'stock', contract: 'stock.v1.StockService' }],
      consumes: [{ context: 'stock', event: 'stock.stock-low.v2' }],
      publishes: [],
      site: { file: 'modules/sales/src/sales.module.ts', line: 3 },
    },
    {
      name: 'stock',
      serves: ['stock.v1.StockService'],
      uses: [],
      consumes: [],
      publishes: ['stock.stock-low.v2'],
      site: { file: 'modules/stock/src/stock.module.ts', line: 2 },
    },
  ];
  // The source says only which methods a held client is called with.
  const files: SourceFile[] = [
    {
      path: 'contracts/stock/stock.contract.ts',
      text: `export const StockContract = defineContract('stock', 'stock.v1.StockService', { reserve: unary(a, b, o), peek: unary(a, b, o), audit: unary(a, b, o) });
export const STOCK = StockContract.token;`,
    },
    {
      path: 'modules/sales/src/application/sell.handler.ts',
      text: `import { STOCK, type StockApi } from '@contracts/stock';
export class SellHandler {
  constructor(@Inject(STOCK) private readonly stock: StockApi) {}
  async execute() {
    await this.stock.reserve(ctx, {});
    await this.stock.peek(ctx, {});
    await this.other.audit(ctx, {});
  }
}`,
    },
  ];

  it('has a sync edge per contract held (declared uses, @Inject of its token) with the methods called on the client', () => {
    const graph = buildModuleGraph(declarations, files);

    expect(graph.sync).toEqual([
      {
        from: 'sales',
        to: 'stock',
        contract: 'stock.v1.StockService',
        methods: ['peek', 'reserve'],
        sites: [
          { file: 'modules/sales/src/sales.module.ts', line: 3 },
          { file: 'modules/sales/src/application/sell.handler.ts', line: 3 },
        ],
      },
    ]);
  });

  it('has an async edge from an event’s producer to each context that declares it consumes it, and what each node serves and consumes', () => {
    const graph = buildModuleGraph(declarations, files);

    expect(graph.async).toEqual([
      {
        from: 'stock',
        to: 'sales',
        events: ['stock.stock-low.v2'],
        sites: [{ file: 'modules/sales/src/sales.module.ts', line: 3 }],
      },
    ]);
    expect(graph.contexts).toEqual([
      { name: 'sales', serves: ['sales.v1.SalesService'], publishes: [], consumes: ['stock.stock-low.v2'] },
      { name: 'stock', serves: ['stock.v1.StockService'], publishes: ['stock.stock-low.v2'], consumes: [] },
    ]);
  });

  it('a context’s own events are no edge, and a use declared without a call is an edge with no methods', () => {
    const graph = buildModuleGraph(
      [
        { ...declarations[0], consumes: [{ context: 'sales', event: 'sales.sold.v1' }] },
        { ...declarations[1], uses: [{ context: 'sales', contract: 'sales.v1.SalesService' }] },
      ],
      [],
    );

    expect(graph.async).toEqual([]);
    expect(graph.sync.map((edge) => [edge.from, edge.to, edge.methods])).toEqual([
      ['sales', 'stock', []],
      ['stock', 'sales', []],
    ]);
  });

  it('puts counted calls on the edges, per second between two scrapes, and marks methods two callers share', () => {
    const graph: ModuleGraph = {
      contexts: [],
      sync: [
        { from: 'edge', to: 'stock', contract: 'stock.v1.StockService', methods: ['peek'], sites: [] },
        { from: 'sales', to: 'stock', contract: 'stock.v1.StockService', methods: ['peek', 'reserve'], sites: [] },
      ],
      async: [{ from: 'stock', to: 'sales', events: ['stock.stock-low.v2'], sites: [] }],
    };
    const before = parseExposition(
      [
        '# TYPE ficus_contract_calls_total counter',
        'ficus_contract_calls_total{contract="stock.v1.StockService",method="reserve",outcome="ok"} 10',
        'ficus_contract_call_duration_seconds_sum{contract="stock.v1.StockService",method="reserve"} 0.05',
        'ficus_contract_call_duration_seconds_count{contract="stock.v1.StockService",method="reserve"} 10',
      ].join('\n'),
    );
    const after = parseExposition(
      [
        'ficus_contract_calls_total{contract="stock.v1.StockService",method="reserve",outcome="ok"} 30',
        'ficus_contract_calls_total{contract="stock.v1.StockService",method="reserve",outcome="unavailable"} 2',
        'ficus_contract_calls_total{contract="stock.v1.StockService",method="peek",outcome="ok"} 4',
        'ficus_contract_call_duration_seconds_sum{contract="stock.v1.StockService",method="reserve"} 0.15',
        'ficus_contract_call_duration_seconds_count{contract="stock.v1.StockService",method="reserve"} 30',
        'ficus_contract_call_duration_seconds_sum{contract="stock.v1.StockService",method="peek"} 0.06',
        'ficus_contract_call_duration_seconds_count{contract="stock.v1.StockService",method="peek"} 4',
        'ficus_contract_calls_total{contract="billing.v1.BillingService",method="bill",outcome="ok"} 1',
        'ficus_consumer_lag{group="ficus.sales",topic="ficus.stock.events"} 7',
      ].join('\n'),
    );

    const rates = attributeCalls(
      graph,
      countCalls([before]),
      countCalls([after]),
      4,
      ['http://a/metrics'],
      consumerLag(graph, [after]),
    );

    expect(rates.edges['sales→stock']).toEqual({
      total: 36,
      errors: 2,
      perSecond: 6.5,
      failingPercent: 7.7, // 2 of the 26 calls between the scrapes
      meanMs: 6.7, // 0.16 s for the 24 calls timed between the scrapes
      attribution: 'shared',
      byMethod: { peek: 4, reserve: 32 },
    });
    expect(describeCalls(rates.edges['sales→stock'])).toBe('36 calls, 6.5/s, 7.7 % failing, 2 failed, shared');
    expect(rates.edges['edge→stock']).toMatchObject({ total: 4, perSecond: 1, meanMs: 15, attribution: 'shared' });
    expect(rates.unattributed).toEqual({ 'billing.v1.BillingService/bill': 1 });
    expect(rates.lag).toEqual({ 'stock→sales': 7 });
  });

  it("counts the edge's GraphQL queries of a subgraph served elsewhere on its edge to that context", () => {
    // The subgraph's contract is the one its context declares, whatever its name.
    const graph: ModuleGraph = {
      contexts: [
        {
          name: 'stock',
          serves: ['stock.v1.StockService'],
          subgraph: 'stock.v1.StockGraph',
          publishes: [],
          consumes: [],
        },
        { name: 'sales', serves: ['sales.v1.SalesService'], publishes: [], consumes: [] },
      ],
      sync: [
        { from: 'edge', to: 'stock', contract: 'stock.v1.StockService', methods: ['peek'], sites: [] },
        { from: 'sales', to: 'stock', contract: 'stock.v1.StockService', methods: ['peek'], sites: [] },
      ],
      async: [],
    };
    const scrape = (peeks: number, queries: number) =>
      countCalls([
        parseExposition(
          [
            `ficus_contract_calls_total{contract="stock.v1.StockService",method="peek",outcome="ok"} ${peeks}`,
            `ficus_contract_calls_total{contract="stock.v1.StockGraph",method="execute",outcome="ok"} ${queries}`,
          ].join('\n'),
        ),
      ]);
    const rates = attributeCalls(graph, scrape(0, 0), scrape(4, 3), 1, ['http://a/metrics']);
    expect(rates.edges['edge→stock']).toMatchObject({ total: 7, byMethod: { peek: 4, graphql: 3 } });
    expect(rates.edges['sales→stock']).toMatchObject({ total: 4, byMethod: { peek: 4 } });
    expect(rates.unattributed).toEqual({});
  });
});

describe('ficus graph on the repository', () => {
  it('--json: ordering calls catalog (getProducts), inventory consumes ordering’s events, and the edge calls every context', async () => {
    const { code, out, err } = await ficus(['graph', '--json', '--topology', 'hybrid']);
    const graph = JSON.parse(out) as GraphJson;

    expect({ code, err }).toEqual({ code: 0, err: '' });
    const hybrid = loadTopology(shippedTopologyPath('hybrid'));
    expect(graph.contexts.map((node) => [node.name, node.target])).toEqual(
      [...BOUNDED_CONTEXTS].sort().map((context) => [context, hybrid.targetOf(context).name]),
    );
    expect(hybrid.targetOf('inventory').name).toBe('inventory'); // split out in hybrid, the rest in core
    expect(hybrid.targetOf('ordering').name).toBe('core');
    expect(graph.contexts.filter((node) => node.subgraph).map((node) => [node.name, node.subgraph])).toEqual(
      ALL_SUBGRAPHS.map((subgraph) => [subgraph.name, subgraph.contract.name]).sort(([a], [b]) => a.localeCompare(b)),
    );
    expect(graph.sync.filter((edge) => edge.from !== 'edge')).toEqual([
      expect.objectContaining({
        from: 'ordering',
        to: 'catalog',
        contract: 'catalog.v1.CatalogService',
        methods: ['getProducts'],
      }),
    ]);
    expect(graph.sync.filter((edge) => edge.from === 'edge').map((edge) => edge.to)).toEqual([
      'catalog',
      'identity',
      'inventory',
      'notifications',
      'ordering',
      'payments',
      'shipping',
    ]);
    expect(graph.async.find((edge) => edge.from === 'ordering' && edge.to === 'inventory')?.events).toEqual([
      'ordering.order-confirmed.v1',
      'ordering.order-created.v1',
      'ordering.order-created.v2',
      'ordering.order-failed.v1',
    ]);
    expect(graph.async.find((edge) => edge.from === 'identity' && edge.to === 'notifications')?.events).toEqual([
      'identity.customer-registered.v1',
      'identity.email-confirmation-requested.v1',
      'identity.registration-attempted.v1',
    ]);
    expect(graph.async.some((edge) => edge.to === 'catalog' || edge.from === 'notifications')).toBe(false);
  });

  it('text: one line per context, call edge and event edge; progress on stderr', async () => {
    const { code, out, err } = await ficus(['graph']);

    expect(code).toBe(0);
    expect(out).toMatch(
      new RegExp(
        `^module graph: ${BOUNDED_CONTEXTS.length} contexts, 8 sync edges \\(contract calls\\), 11 async edges \\(events\\)`,
      ),
    );
    expect(out).toMatch(/ordering → catalog +catalog\.v1\.CatalogService: getProducts\n/);
    expect(out).toMatch(
      /ordering ⇢ inventory +ordering\.order-confirmed\.v1, ordering\.order-created\.v1, ordering\.order-created\.v2, ordering\.order-failed\.v1\n/,
    );
    expect(err).toContain('ficus graph: reading modules, contracts, apps/http-edge/src…');
  });

  it('mermaid: a flowchart with solid call arrows, dotted event arrows and a subgraph per target', async () => {
    const { code, out } = await ficus(['graph', '--format', 'mermaid', '--topology', 'hybrid']);

    expect(code).toBe(0);
    expect(out.split('\n')[0]).toBe('flowchart LR');
    expect(out).toContain('  ordering -- "getProducts" --> catalog\n');
    expect(out).toContain(
      '  ordering -. "order-confirmed.v1, order-created.v1, order-created.v2, order-failed.v1" .-> inventory\n',
    );
    expect(out).toContain('  subgraph target_inventory["target inventory"]\n    inventory[inventory]\n  end\n');
  });

  it('svg and png: pictures rendered from DOT (Graphviz in WebAssembly, then resvg)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ficus-graph-'));
    try {
      const svgFile = join(dir, 'graph.svg');
      const pngFile = join(dir, 'graph.png');

      const svg = await ficus(['graph', '--format', 'svg', '--out', svgFile]);
      const png = await ficus(['graph', '--format', 'png', '--out', pngFile, '--topology', 'split']);

      expect([svg.code, png.code]).toEqual([0, 0]);
      expect(svg.out).toBe(`wrote the module graph as svg to ${svgFile}\n`);
      const picture = readFileSync(svgFile, 'utf8');
      expect(picture.startsWith('<svg')).toBe(true);
      expect(picture).toContain('getProducts');
      expect(picture).toContain('order&#45;created.v1'); // Graphviz escapes the hyphen
      expect(readFileSync(pngFile).subarray(0, 8)).toEqual(
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown format, and png without a file', async () => {
    expect(await ficus(['graph', '--format', 'gif'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--format takes text, mermaid, dot, svg, png, not gif'),
    });
    expect(await ficus(['graph', '--format', 'png'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('give --out <file>.png'),
    });
  });
});
