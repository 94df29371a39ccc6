import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { extract, planExtraction, type ExtractionPlan } from '@infra/deploy/extraction';
import { deployOptions, type KubernetesObject, PROJECT_ROOT } from '@infra/deploy/generator';
import { loadTopology, parseTopology, shippedTopologyPath } from '@infra/topology';
import { ficus } from '../flags/flags-cli';
import { ALL_CONTEXTS, contextsBut, flowList } from '../support/contexts';
import { named, schemaProblems, topologyProblems } from '../support/kubernetes-checks';

/**
 * `ficus extract <context>` (docs/migration-guide.md, step 4), run in this process on the shipped
 * topologies into a temporary folder: the topology it writes loads and keeps the original's text,
 * its Kubernetes files validate against the schemas and agree with the new target, and what it
 * refuses it refuses before writing anything.
 */

const MONOLITH = shippedTopologyPath('monolith');
/** The environment of a user who set nothing: the shipped monolith is the default. */
const ENV = { PATH: process.env.PATH };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ficus-extract-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const out = () => join(dir, 'extracting.yaml');
const deployDir = () => join(dir, 'deploy');
const run = (args: string[], env: NodeJS.ProcessEnv = ENV) =>
  ficus(['extract', ...args, '--out', out(), '--deploy-dir', deployDir()], env);

/** Each line of `original` is in `written`, in the same order: nothing removed, moved or rewritten. */
function keptLines(original: string, written: string, except: RegExp): string[] {
  const lines = written.split('\n');
  let at = 0;
  const lost: string[] = [];
  for (const line of original.split('\n').filter((l) => !except.test(l))) {
    const found = lines.indexOf(line, at);
    if (found === -1) lost.push(line);
    else at = found + 1;
  }
  return lost;
}

function kubernetesObjects(): KubernetesObject[] {
  const kubernetes = join(deployDir(), 'kubernetes');
  return readdirSync(kubernetes)
    .filter((file) => file !== 'kustomization.yaml')
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(kubernetes, file), 'utf8')).map(
        (document) => document.toJSON() as KubernetesObject,
      ),
    );
}

function listing(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .map((path) => `${relative(root, path)} ${statSync(path).mtimeMs} ${statSync(path).size}`)
    .sort();
}

describe('ficus extract from the shipped monolith', () => {
  it('writes a topology that loads, with the new target beside its owner on ports of its own', async () => {
    const result = await run(['inventory']);
    expect(result).toMatchObject({ code: 0, err: '' });

    const topology = loadTopology(out(), { env: {} });
    // Fails when the new target is missing, hosts more than the context, or forgets its owner.
    expect(topology.name).toBe('monolith-extracting-inventory');
    expect(topology.target('inventory')).toMatchObject({
      modules: ['inventory'],
      extractedFrom: 'monolith',
      grpc: { host: '127.0.0.1', port: 7052 },
      http: { port: 3102 },
    });
    // Fails when the owner stops hosting the context (it keeps events and data until retire) or gets no gRPC port.
    expect(topology.target('monolith').modules).toContain('inventory');
    expect(topology.targetOf('inventory').name).toBe('monolith');
    expect(topology.extractionOf('inventory')?.name).toBe('inventory');
    expect(topology.target('monolith').grpc?.port).toBe(7050);
    // Fails when the extracted target is given a database of its own: it works on the owner's.
    expect(topology.target('inventory').database).toEqual(topology.target('monolith').database);
    const ports = topology.targets.flatMap((target) => [target.http.port, target.grpc?.port]);
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('keeps every line and comment of the original, in order', async () => {
    await run(['inventory']);
    const original = readFileSync(MONOLITH, 'utf8');
    const written = readFileSync(out(), 'utf8');
    // Fails when the rewrite drops, reorders or reformats what the author wrote (only `name:` changes).
    expect(keptLines(original, written, /^name:/)).toEqual([]);
    expect(original.split('\n').filter((line) => line.trim().startsWith('#')).length).toBeGreaterThan(2);
    expect(written).toContain('# Being extracted from monolith');
  });

  it('writes the Kubernetes objects of the owner and the new target, valid to the schemas and to the new topology', async () => {
    await run(['inventory', '--image', 'ficus:extract-test']);
    const topology = loadTopology(out(), { env: {} });
    const objects = kubernetesObjects();
    // Fails when the generator writes an object the Kubernetes or Istio schemas refuse.
    expect(schemaProblems(objects)).toEqual([]);
    // Fails when a port, probe, selector, HPA, PDB, Secret reference or Istio route disagrees with the new topology.
    expect(topologyProblems(topology, objects, ['monolith', 'inventory'])).toEqual([]);
    const service = named(objects, 'Service', 'inventory') as unknown as {
      spec: { ports: { name: string; port: number }[] };
    };
    expect(service.spec.ports.map((p) => [p.name, p.port])).toEqual([
      ['http', 3102],
      ['grpc', 7052],
    ]);
    const deployment = named(objects, 'Deployment', 'inventory') as unknown as {
      spec: {
        template: {
          spec: {
            containers: {
              image: string;
              command: string[];
              readinessProbe: { httpGet: { port: number } };
              livenessProbe: { httpGet: { port: number } };
            }[];
          };
        };
      };
    };
    const container = deployment.spec.template.spec.containers[0];
    expect(container).toMatchObject({
      image: 'ficus:extract-test',
      command: ['node', 'dist/apps/service/src/main.js', '--target', 'inventory'],
    });
    expect([container.readinessProbe.httpGet.port, container.livenessProbe.httpGet.port]).toEqual([3102, 3102]);
    for (const kind of [
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'ConfigMap',
      'DestinationRule',
      'VirtualService',
    ]) {
      expect({
        kind,
        found: named(objects, kind, kind === 'ConfigMap' ? 'inventory-config' : 'inventory') !== undefined,
      }).toEqual({ kind, found: true });
    }
    // Fails when the pods would read a topology other than the one written.
    const configMap = named(objects, 'ConfigMap', 'ficus-topology') as unknown as { data: Record<string, string> };
    expect(
      parseTopology(configMap.data['topology.yaml'], 'pods', { env: { KAFKA_BROKERS: 'kafka:9092' } }).target(
        'inventory',
      ).extractedFrom,
    ).toBe('monolith');
    const kustomization = parse(readFileSync(join(deployDir(), 'kubernetes', 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
    };
    expect(kustomization.resources).toEqual(['namespace.yaml', 'topology.yaml', 'monolith.yaml', 'inventory.yaml']);
    // Fails when the compose fragment is not the generator's service of the new target.
    const compose = readFileSync(join(deployDir(), 'compose-inventory.fragment.yml'), 'utf8');
    expect(compose).toContain('command: ["node", "dist/apps/service/src/main.js", "--target", "inventory"]');
    expect(compose).toContain('expose: ["7052", "3102"]');
  });

  it('prints the result as JSON: files, what to create now and at retire, and the next commands', async () => {
    const result = await run(['inventory', '--json'], {
      ...ENV,
      DATABASE_URL: 'postgres://ficus:secret@db.example:5432/shop',
    });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out) as {
      topology: { written: string; name: string };
      target: {
        name: string;
        extractedFrom: string;
        grpc: { port: number };
        http: { port: number };
        database: { kind: string; of: string };
      };
      owner: { name: string; grpcPort: number; grpcPortAdded: boolean };
      files: { path: string; objects: string[] }[];
      toCreate: {
        now: { databases: string[]; topics: string[]; consumerGroups: string[] };
        atRetire: {
          databases: { name: string }[];
          topics: { name: string; partitions: number }[];
          consumerGroups: { group: string; reads: string[] }[];
        };
      };
      next: { step: string; command: string }[];
      modulesChanged: boolean;
    };
    // Fails when --json leaves out what a script needs to take the next step.
    expect(report).toMatchObject({
      topology: { written: out(), name: 'monolith-extracting-inventory' },
      target: {
        name: 'inventory',
        extractedFrom: 'monolith',
        grpc: { port: 7052 },
        http: { port: 3102 },
        database: { kind: 'shared', of: 'monolith' },
      },
      owner: { name: 'monolith', grpcPort: 7050, grpcPortAdded: true },
      toCreate: { now: { databases: [], topics: [], consumerGroups: [] } },
      modulesChanged: false,
    });
    for (const file of report.files)
      expect({ file: file.path, exists: existsSync(file.path) }).toEqual({ file: file.path, exists: true });
    expect(report.files.find((file) => file.path.endsWith('kubernetes/inventory.yaml'))?.objects).toEqual(
      expect.arrayContaining([
        'Deployment/inventory',
        'Service/inventory',
        'HorizontalPodAutoscaler/inventory',
        'PodDisruptionBudget/inventory',
      ]),
    );
    // Fails when retire's list loses the context's topic and database, or the groups that will read the topic.
    expect(report.toCreate.atRetire.databases.map((d) => d.name)).toEqual(['ficus_inventory']);
    expect(report.toCreate.atRetire.topics).toEqual(
      expect.arrayContaining([
        { name: 'ficus.inventory.events', partitions: 6, note: expect.any(String) },
        expect.objectContaining({ name: 'ficus.inventory.dead-letters' }),
      ]),
    );
    expect(report.toCreate.atRetire.consumerGroups).toContainEqual({
      group: 'ficus.ordering',
      reads: ['ficus.inventory.events'],
    });
    // Fails when the start command loses the target, the topology or the owner's database (by variable, never its password).
    const commands = report.next.map((step) => step.command);
    expect(commands).toContain(
      `DATABASE_URL="$DATABASE_URL" node -r @swc-node/register apps/service/src/main.ts --target inventory --topology ${out()}`,
    );
    expect(commands).toContain('ficus shadow inventory on');
    expect(result.out).not.toContain('secret@');
  });

  it('touches nothing under modules/ and writes nothing on --dry-run', async () => {
    const before = listing(join(PROJECT_ROOT, 'modules'));
    const dry = await run(['inventory', '--dry-run']);
    // Fails when a dry run writes, or stops saying what it would write.
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('would write');
    expect(readdirSync(dir)).toEqual([]);
    await run(['payments']);
    expect(existsSync(out())).toBe(true);
    // Fails when extracting edits a module: where a module runs is the topology's business alone.
    expect(listing(join(PROJECT_ROOT, 'modules'))).toEqual(before);
  });
});

describe('ficus extract refuses', () => {
  const refused = async (args: string[], message: RegExp, env: NodeJS.ProcessEnv = ENV) => {
    const result = await run(args, env);
    // Fails when a refusal exits 0, says nothing useful, or writes files anyway.
    expect({ code: result.code, err: result.err }).toEqual({ code: 1, err: expect.stringMatching(message) });
    expect(existsSync(out()) || existsSync(deployDir())).toBe(false);
  };

  it('an unknown context, with the likely name', () =>
    refused(['inventroy'], /"inventroy" is not a context of topology monolith .*did you mean "inventory"/));

  it('a context that is its own target already', () =>
    refused(
      ['inventory', '--topology', 'split'],
      /inventory is its own target already: "inventory" hosts nothing else/,
    ));

  it('the only module left in the edge', async () => {
    const alone = join(dir, 'alone.yaml');
    writeFileSync(
      alone,
      `name: alone\ndefaults:\n  grpc: { host: 127.0.0.1 }\n  kafka: { brokers: "127.0.0.1:9092" }\ntargets:\n  core:\n    edge: true\n    modules: [catalog]\n    grpc: { port: 7050 }\n    http: { port: 3000 }\n  rest:\n    modules: ${flowList(contextsBut('catalog'))}\n    grpc: { port: 7051 }\n    http: { port: 3101 }\n`,
    );
    await refused(['catalog', '--topology', alone], /catalog is the only module left in "core", the edge/);
  });

  it('a context being extracted already', async () => {
    expect((await run(['inventory'])).code).toBe(0);
    const again = join(dir, 'again.yaml');
    const result = await ficus(
      ['extract', 'inventory', '--topology', out(), '--out', again, '--deploy-dir', join(dir, 'again')],
      ENV,
    );
    expect({ code: result.code, err: result.err }).toEqual({
      code: 1,
      err: expect.stringMatching(/inventory is being extracted already: target "inventory" runs it beside "monolith"/),
    });
    expect(existsSync(again)).toBe(false);
  });

  it('a port the topology uses, and files that exist already', async () => {
    await refused(['inventory', '--grpc-port', '3000'], /--grpc-port 3000 is used by targets\.monolith\.http\.port/);
    expect((await run(['inventory'])).code).toBe(0);
    const again = await run(['inventory']);
    expect({ code: again.code, err: again.err }).toEqual({
      code: 1,
      err: expect.stringMatching(/exists? already: give --out \/ --deploy-dir elsewhere, or --force/),
    });
    expect((await run(['inventory', '--force'])).code).toBe(0);
  });
});

describe('extraction from other topologies', () => {
  const options = deployOptions({ image: 'ficus:test' });
  const extractFrom = (text: string, context: string, choices = {}) =>
    extract({ text, source: 'source.yaml', context, choices, out: 'out.yaml', options, env: {}, eventLinks: [] });

  it("from hybrid: the owner keeps its gRPC port, defaults stay, split.yaml's ports for the context", () => {
    const original = readFileSync(shippedTopologyPath('hybrid'), 'utf8');
    const extraction = extractFrom(original, 'shipping');
    // Fails when an owner that has a port, or a file that has a host, is rewritten anyway.
    expect(extraction.plan).toMatchObject<Partial<ExtractionPlan>>({
      owner: 'core',
      target: 'shipping',
      grpcPort: 7055,
      httpPort: 3105,
      ownerGrpc: { port: 7050, added: false },
      addGrpcHost: false,
    });
    expect(keptLines(original, extraction.text, /^name:/)).toEqual([]);
    expect(parseTopology(extraction.text, 'out.yaml', { env: {} }).target('shipping')).toMatchObject({
      extractedFrom: 'core',
      database: { kind: 'name', name: 'ficus_core' },
    });
    // Fails when the files carry targets other than the owner and the new one.
    expect(extraction.files.map((file) => file.path)).toEqual([
      'kubernetes/namespace.yaml',
      'kubernetes/topology.yaml',
      'kubernetes/core.yaml',
      'kubernetes/shipping.yaml',
      'kubernetes/kustomization.yaml',
      'compose-shipping.fragment.yml',
    ]);
    expect(schemaProblems(extraction.files.flatMap((file) => file.objects))).toEqual([]);
  });

  it("picks the next free ports when split.yaml's are taken, and adds grpc to defaults that lack it", () => {
    const text = [
      'name: busy # a comment on the name',
      'defaults:',
      '  kafka: { brokers: "127.0.0.1:9092" }',
      'targets:',
      '  main:',
      '    edge: true',
      `    modules: ${flowList(ALL_CONTEXTS)}`,
      '    http: { port: 7052 }',
      '  # nothing else yet',
      '',
    ].join('\n');
    const extraction = extractFrom(text, 'inventory');
    // Fails when a port of the topology is handed out twice.
    expect(extraction.plan).toMatchObject({
      grpcPort: 7051,
      httpPort: 3102,
      ownerGrpc: { port: 7050, added: true },
      addGrpcHost: true,
    });
    const topology = parseTopology(extraction.text, 'out.yaml', { env: {} });
    expect(topology.target('main').grpc).toMatchObject({ host: '127.0.0.1', port: 7050 });
    expect(extraction.text).toContain('name: busy-extracting-inventory # a comment on the name');
    expect(keptLines(text, extraction.text, /^name:/)).toEqual([]);
    expect(() => planExtraction(topology, 'payments', { httpPort: 7050 })).toThrow(
      /--http-port 7050 is used by targets\.main\.grpc\.port/,
    );
  });

  it.each([
    [
      'block lists and defaults.grpc without a host',
      'defaults:\n  grpc:\n    deadlineMs: 100\n',
      `modules:\n${ALL_CONTEXTS.map((module) => `      - ${module}`).join('\n')}`,
    ],
    ['flow defaults', 'defaults: { grpc: { deadlineMs: 100 } }\n', `modules: ${flowList(ALL_CONTEXTS)}`],
    [
      'a flow defaults.grpc',
      'defaults:\n  grpc: { deadlineMs: 100 } # deadlines\n',
      `modules: ${flowList(ALL_CONTEXTS)}`,
    ],
  ])('into a file with %s: lines added where they belong, every other line kept', (_, defaults, modules) => {
    const text = `name: b\n${defaults}targets:\n  main:\n    edge: true\n    ${modules} # the shop\n    http: { port: 3000 }\ncontexts:\n  # before ordering\n  ordering: { kafka: { partitions: 3 } }\n`;
    const extraction = extractFrom(text, 'ordering');
    const topology = parseTopology(extraction.text, 'out.yaml', { env: {} });
    // Fails when an insertion lands inside another entry (the owner's gRPC port after its HTTP, a host outside defaults.grpc).
    expect(topology.target('main').grpc).toMatchObject({ host: '127.0.0.1', port: 7050 });
    expect(extraction.text).toMatch(/# the shop\n {4}grpc: \{ port: 7050 \}/);
    expect(topology.partitionsOf('ordering')).toBe(3);
    expect(keptLines(text, extraction.text, /^(name|defaults):|^ {2}grpc: \{/)).toEqual([]);
  });

  it('from a file in flow style: re-printed from the document, comments and all, and loading', () => {
    const text = `# the whole shop\nname: flow\ntargets: { app: { edge: true, modules: ${flowList(ALL_CONTEXTS)}, http: { port: 3000 } } } # one line\n`;
    const extraction = extractFrom(text, 'ordering');
    const topology = parseTopology(extraction.text, 'out.yaml', { env: {} });
    // Fails when a flow-style file cannot be extracted from, or loses its comments.
    expect(topology.target('ordering')).toMatchObject({
      extractedFrom: 'app',
      grpc: { port: 7053 },
      http: { port: 3103 },
    });
    expect(extraction.text).toContain('# the whole shop');
    expect(extraction.text).toContain('# one line');
  });
});
