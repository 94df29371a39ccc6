import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import {
  composeServiceText,
  type DeployOptions,
  deployOptions,
  edgeDatabaseOf,
  type GeneratedFile,
  type KubernetesObject,
  kubernetesFiles,
  kubernetesObjectsForTarget,
  loadTopologyForDeploy,
  nodeImageOf,
  PROJECT_ROOT,
  SHIPPED,
  shippedDeployFiles,
  shippedImage,
  TOPOLOGY_CONFIG_MAP,
  TOPOLOGY_FILE,
} from '@infra/deploy/generator';
import { parseTopology, type Topology } from '@infra/topology';
import { all, type DeploymentShape, named, schemaProblems, topologyProblems } from '../support/kubernetes-checks';
import { ALL_CONTEXTS, flowList } from '../support/contexts';

/**
 * The deploy generator's output, checked as files (no cluster, no Docker here): every Kubernetes
 * object against the Kubernetes and Istio schemas (kubernetes-models, @kubernetes-models/istio),
 * and every object against the topology it came from. Each assertion names the edit it catches.
 */

const read = (path: string): string => readFileSync(join(PROJECT_ROOT, path), 'utf8');
const options = deployOptions({ image: 'ficus:test' });

const objectsOf = (files: readonly GeneratedFile[]) => files.flatMap((file) => file.objects);
function generate(topologyPath: string, given: Partial<DeployOptions> = {}) {
  const input = loadTopologyForDeploy(topologyPath);
  const files = kubernetesFiles({ ...input, options: deployOptions({ ...options, ...given }) });
  return { input, topology: input.topology, files, objects: objectsOf(files) };
}

/** An object a test edits at arbitrary paths. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the planted breaks reach any field
type Editable = Record<string, any>;

/** A deep copy of an object with one edit: the planted break. */
function broken(object: KubernetesObject, edit: (copy: Editable) => void): KubernetesObject {
  const copy = structuredClone(object) as Editable;
  edit(copy);
  return copy as KubernetesObject;
}

// ---------------------------------------------------------------------------------------------

describe('the committed deploy files are what the generator writes', () => {
  const shipped = shippedDeployFiles();

  it('docker-compose.yml', () => {
    // Fails when docker-compose.yml is edited by hand, or the generator or compose.yaml changes
    // without `npm run deploy:generate`.
    expect(read(SHIPPED.compose.file)).toBe(shipped.compose.content);
  });

  it('infra/deploy/kubernetes/', () => {
    // Fails when a file there is edited by hand, added, or left behind after a target is removed.
    const committed = readdirSync(join(PROJECT_ROOT, SHIPPED.kubernetes.dir)).sort();
    expect(committed).toEqual(shipped.kubernetes.map((file) => file.path).sort());
    for (const file of shipped.kubernetes)
      expect({ file: file.path, content: read(join(SHIPPED.kubernetes.dir, file.path)) }).toEqual({
        file: file.path,
        content: file.content,
      });
    // Fails when the image drifts from package.json's version.
    expect(
      shipped.kubernetes
        .flatMap((f) => f.objects)
        .filter((o) => o.kind === 'Deployment')
        .map((d) => JSON.stringify(d)),
    ).toEqual(expect.arrayContaining([expect.stringContaining(`"image":"${shippedImage()}"`)]));
  });

  it('each file parses back to the objects it was written from, and the kustomization lists every file', () => {
    for (const file of shipped.kubernetes.filter((f) => f.objects.length > 0)) {
      // Fails when the YAML writer loses or mangles a field (a number turned string, a document dropped).
      expect(parseAllDocuments(file.content).map((document) => document.toJSON())).toEqual(
        JSON.parse(JSON.stringify(file.objects)),
      );
    }
    const kustomization = parse(shipped.kubernetes.find((f) => f.path === 'kustomization.yaml')!.content) as {
      resources: string[];
    };
    expect(kustomization.resources.sort()).toEqual(
      shipped.kubernetes
        .filter((f) => f.objects.length > 0)
        .map((f) => f.path)
        .sort(),
    );
  });
});

describe('Kubernetes objects validate against the Kubernetes and Istio schemas', () => {
  it.each([['infra/topology/split.yaml'], ['infra/topology/hybrid.yaml'], ['infra/topology/monolith.yaml']])(
    'every object generated from %s',
    (path) => {
      const { objects } = generate(path);
      // Fails when the generator writes a field of the wrong type, a missing required field, or a kind without a schema.
      expect(schemaProblems(objects)).toEqual([]);
      expect(objects.length).toBeGreaterThan(0);
    },
  );

  it('catches a planted schema break in a Deployment, an HPA and Istio objects', () => {
    const { objects } = generate('infra/topology/split.yaml');
    const deployment = named(objects, 'Deployment', 'catalog')!;
    const hpa = named(objects, 'HorizontalPodAutoscaler', 'catalog')!;
    const virtualService = named(objects, 'VirtualService', 'catalog')!;
    const destinationRule = named(objects, 'DestinationRule', 'catalog')!;
    const planted = [
      broken(deployment, (d) => (d.spec.template.spec.containers[0].ports[0].containerPort = 'http')),
      broken(deployment, (d) => delete d.spec.template.spec.containers[0].name),
      broken(hpa, (h) => (h.spec.maxReplicas = 'six')),
      broken(virtualService, (v) => (v.spec.tcp[0].route[1].weight = '10%')),
      broken(destinationRule, (r) => (r.spec.subsets[0].labels = ['version', 'stable'])),
      broken(destinationRule, (r) => (r.apiVersion = 'networking.istio.io/v1alpha9')),
    ];
    // Fails when validation passes anything: each of these must be refused on its own.
    for (const object of planted)
      expect({ object: object.kind, problems: schemaProblems([object]).length }).toEqual({
        object: object.kind,
        problems: 1,
      });
  });
});

describe('Kubernetes objects agree with the topology', () => {
  it.each([['infra/topology/split.yaml'], ['infra/topology/hybrid.yaml'], ['infra/topology/monolith.yaml']])(
    'for %s',
    (path) => {
      const { topology, objects } = generate(path);
      // Fails when a port, a probe, a selector, the HPA's or the PDB's target, a secret reference, the
      // TLS mount or Istio's routing disagrees with the topology (see topologyProblems).
      expect(topologyProblems(topology, objects)).toEqual([]);
      // Fails when a Secret with values is generated: secrets are the operator's, referenced only.
      expect(all(objects, 'Secret')).toEqual([]);
    },
  );

  it('catches a planted wrong probe port, a Service selecting nothing and an HPA aimed elsewhere', () => {
    const { topology, objects } = generate('infra/topology/split.yaml');
    const replace = (kind: string, name: string, edit: (copy: Editable) => void) =>
      objects.map((object) => (object.kind === kind && object.metadata.name === name ? broken(object, edit) : object));
    const cases = [
      replace(
        'Deployment',
        'inventory',
        (d) => (d.spec.template.spec.containers[0].readinessProbe.httpGet.port = 7052),
      ),
      replace(
        'Deployment',
        'inventory',
        (d) => (d.spec.template.spec.containers[0].livenessProbe.httpGet.path = '/ready'),
      ),
      replace('Service', 'ordering', (s) => (s.spec.selector = { app: 'orders' })),
      replace('Service', 'payments', (s) => (s.spec.ports[1].port = 7055)),
      replace('HorizontalPodAutoscaler', 'shipping', (h) => (h.spec.scaleTargetRef.name = 'shipping-v2')),
      replace(
        'Deployment',
        'identity',
        (d) => (d.spec.template.spec.containers[0].env[0] = { name: 'DATABASE_URL', value: 'postgres://u:p@db/x' }),
      ),
      replace(
        'VirtualService',
        'catalog',
        (v) => ((v.spec.tcp[0].route[0].weight = 50), (v.spec.tcp[0].route[1].weight = 50)),
      ),
      replace('Deployment', 'gateway', (d) => (d.spec.template.spec.volumes[1].secret.items[2].path = 'tls.key')),
    ];
    // Fails when the consistency check misses one of these breaks (each valid to the schema alone).
    cases.forEach((broke, index) =>
      expect({ index, found: topologyProblems(topology, broke).length > 0 }).toEqual({ index, found: true }),
    );
  });

  it('writes a topology for the pods that is the source with Service names as addresses', () => {
    const { topology, objects } = generate('infra/topology/split.yaml');
    const text = (named(objects, 'ConfigMap', TOPOLOGY_CONFIG_MAP) as unknown as { data: Record<string, string> }).data[
      TOPOLOGY_FILE
    ];
    // What a pod's environment holds: its ConfigMap (the Secret holds no topology variable).
    const env = (named(objects, 'ConfigMap', 'catalog-config') as unknown as { data: Record<string, string> }).data;
    const inPods = parseTopology(text, 'topology.yaml', { env });
    const withoutHosts = (t: Topology) =>
      t.targets.map((target) => ({
        ...target,
        grpc: target.grpc && { ...target.grpc, host: '' },
        http: { ...target.http, host: '' },
        operations: { ...target.operations, host: '' },
      }));
    // Fails when the generated topology moves a module, changes a port, a database, a deadline,
    // partitions, resilience or callers relative to the source.
    expect(withoutHosts(inPods)).toEqual(withoutHosts(topology));
    expect(inPods.kafka.partitions).toEqual(topology.kafka.partitions);
    expect(inPods.resilience).toEqual(topology.resilience);
    expect(inPods.callers).toEqual(topology.callers);
    expect(inPods.kafka.brokers).toEqual(['kafka:9092']);
    for (const target of inPods.targets) {
      // Fails when a target is dialled at an address no generated Service answers, or HTTP binds loopback.
      if (target.grpc) expect(named(objects, 'Service', target.grpc.host)).toBeDefined();
      expect(target.http.host).toBe('0.0.0.0');
    }
  });

  it("has the monolith's operations port answer the kubelet from outside the pod, whatever the image sets", () => {
    // monolith.yaml keeps it on loopback unless FICUS_OPERATIONS_HOST says otherwise (npm start on
    // a laptop); in a pod the probes come from outside, so the pods' topology binds every interface.
    const { topology, objects } = generate('infra/topology/monolith.yaml');
    expect(topology.edgeTarget().operations.host).toBe('127.0.0.1');
    const text = (named(objects, 'ConfigMap', TOPOLOGY_CONFIG_MAP) as unknown as { data: Record<string, string> }).data[
      TOPOLOGY_FILE
    ];
    const inPods = parseTopology(text, 'topology.yaml', { env: {} }).edgeTarget();
    expect([inPods.http.host, inPods.operations.host]).toEqual(['0.0.0.0', '0.0.0.0']);
  });

  it("configures the edge database as the other targets' databases are: by prefix, on the server of its own DATABASE_URL", () => {
    const { topology, objects } = generate('infra/topology/split.yaml');
    const config = (name: string) =>
      (named(objects, 'ConfigMap', `${name}-config`) as unknown as { data: Record<string, string> }).data;
    // Fails when the gateway's FICUS_DATABASE_PREFIX no longer names <prefix>_edge alongside <prefix>_<target>.
    expect(edgeDatabaseOf(topology)).toBe('ficus_edge');
    expect(`${config('gateway').FICUS_DATABASE_PREFIX}_edge`).toBe(edgeDatabaseOf(topology));
    for (const target of topology.targets.filter((t) => t.database.kind === 'name')) {
      expect(target.database).toEqual({
        kind: 'name',
        name: `${config(target.name).FICUS_DATABASE_PREFIX}_${target.name}`,
      });
    }
  });

  it('generates one target alone (for `ficus extract`) exactly as in the whole generation', () => {
    const { input, files } = generate('infra/topology/split.yaml');
    const alone = kubernetesFiles({ ...input, options, targets: ['inventory'] });
    // Fails when a single target's files differ from its part of the whole, or carry other targets.
    expect(alone.map((f) => f.path)).toEqual([
      'namespace.yaml',
      'topology.yaml',
      'inventory.yaml',
      'kustomization.yaml',
    ]);
    expect(alone.find((f) => f.path === 'inventory.yaml')).toEqual(files.find((f) => f.path === 'inventory.yaml'));
    expect(kubernetesObjectsForTarget(input, 'inventory', options)).toEqual(
      files.find((f) => f.path === 'inventory.yaml')!.objects,
    );
    expect(() => kubernetesFiles({ ...input, options, targets: ['inventroy'] })).toThrow(/no target "inventroy"/);
  });
});

describe('a target being extracted (`ficus extract`)', () => {
  const text = [
    'name: monolith-extracting-inventory',
    'defaults:',
    '  grpc: { host: 127.0.0.1 }',
    'targets:',
    '  monolith:',
    '    edge: true',
    `    modules: ${flowList(ALL_CONTEXTS)}`,
    '    grpc: { port: 7050 }',
    '    http: { port: 3000 }',
    '  inventory:',
    '    modules: [inventory]',
    '    extractedFrom: monolith',
    '    grpc: { port: 7052 }',
    '    http: { port: 3102 }',
    '',
  ].join('\n');
  const input = { topology: parseTopology(text, 'extracting.yaml', { env: {} }), source: 'extracting.yaml', text };
  const objects = objectsOf(kubernetesFiles({ ...input, options, targets: ['monolith', 'inventory'] }));
  const container = (target: string) =>
    (named(objects, 'Deployment', target) as unknown as DeploymentShape).spec.template.spec.containers[0];

  it("reads its owner's credentials, keeps its own certificate, and validates against the schemas and the topology", () => {
    // Fails when the extracted target reads a Secret of its own for DATABASE_URL: a second role secret would
    // reset the context's role password under the owner (provisioning sets it on every start).
    expect(container('inventory').env?.find((v) => v.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef?.name).toBe(
      'monolith-credentials',
    );
    expect(container('inventory').envFrom).toContainEqual({ secretRef: { name: 'monolith-credentials' } });
    expect(container('inventory').envFrom).not.toContainEqual({ secretRef: { name: 'inventory-credentials' } });
    // Fails when it borrows the owner's certificate too: callers check that they reach the target they meant.
    const tls = (
      named(objects, 'Deployment', 'inventory') as unknown as DeploymentShape
    ).spec.template.spec.volumes?.find((v) => v.name === 'grpc-tls');
    expect(tls?.secret?.secretName).toBe('inventory-grpc-tls');
    expect(schemaProblems(objects)).toEqual([]);
    expect(topologyProblems(input.topology, objects)).toEqual([]);
  });

  it("catches an extracted target that reads a Secret other than its owner's", () => {
    const planted = objects.map((object) =>
      object.kind === 'Deployment' && object.metadata.name === 'inventory'
        ? broken(
            object,
            (d) => (d.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name = 'inventory-credentials'),
          )
        : object,
    );
    // Fails when the consistency check lets the extracted target work with credentials of its own.
    expect(topologyProblems(input.topology, planted)).toContainEqual(
      expect.stringContaining('inventory: DATABASE_URL from inventory-credentials'),
    );
  });
});

describe('canary releases through Istio', () => {
  it('sends nothing to a canary by default and runs no canary Deployment', () => {
    const { objects } = generate('infra/topology/split.yaml');
    // Fails when the default weight is not 0 % canary.
    for (const vs of all(objects, 'VirtualService') as unknown as {
      spec: { tcp: { route: { destination: { subset: string }; weight: number }[] }[] };
    }[]) {
      expect(vs.spec.tcp[0].route.map((r) => [r.destination.subset, r.weight])).toEqual([
        ['stable', 100],
        ['canary', 0],
      ]);
    }
    expect(all(objects, 'Deployment').map((d) => d.metadata.name)).not.toContainEqual(
      expect.stringMatching(/-canary$/),
    );
  });

  it('weights a canary Deployment of another image, valid to the schemas and to the topology', () => {
    const { topology, objects } = generate('infra/topology/split.yaml', {
      canary: { weight: 10, image: 'ficus:next', targets: ['inventory'] },
    });
    const canary = named(objects, 'Deployment', 'inventory-canary') as unknown as DeploymentShape & {
      spec: { replicas: number };
    };
    // Fails when the canary Deployment is missing, runs the stable image, or is not labelled canary.
    expect(canary.spec.template.metadata.labels.version).toBe('canary');
    expect(canary.spec.template.spec.containers[0]).toMatchObject({ image: 'ficus:next' });
    const vs = named(objects, 'VirtualService', 'inventory') as unknown as {
      spec: { tcp: { route: { weight: number }[] }[] };
    };
    expect(vs.spec.tcp[0].route.map((r) => r.weight)).toEqual([90, 10]);
    // Fails when a target not chosen for the canary gets one.
    expect(named(objects, 'Deployment', 'catalog-canary')).toBeUndefined();
    expect(schemaProblems(objects)).toEqual([]);
    expect(topologyProblems(topology, objects)).toEqual([]);
  });

  it('refuses a weight outside 0–100', () => {
    expect(() => deployOptions({ image: 'x', canary: { weight: 101 } })).toThrow(/canary weight 101/);
    expect(() => deployOptions({ image: 'x', canary: { weight: 2.5 } })).toThrow(/canary weight/);
  });
});

interface ComposeService {
  image?: string;
  build?: unknown;
  user?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
}

describe('docker-compose.yml runs mutual TLS and the edge database', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
  const { topology } = loadTopologyForDeploy(SHIPPED.compose.topology);
  const ficus = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);

  it('gives each process its own certificate, read-only, where FICUS_GRPC_TLS_DIR says', () => {
    const mountsOf = (service: ComposeService) => (service.volumes ?? []).map((volume) => volume.split(':'));
    const certs = compose.services['grpc-certs'];
    expect(ficus.map(([name]) => name).sort()).toEqual(topology.targets.map((t) => t.name).sort());
    const volumes = new Set<string>();
    for (const [name, service] of ficus) {
      const tlsDir = service.environment?.FICUS_GRPC_TLS_DIR;
      const mount = mountsOf(service).find(([, path]) => path === tlsDir);
      // Fails when a process runs gRPC without TLS, or its certificate volume is writable or shared.
      expect({ name, mount }).toEqual({ name, mount: [expect.any(String), tlsDir, 'ro'] });
      expect(volumes.has(mount![0])).toBe(false);
      volumes.add(mount![0]);
      // Fails when the copy service no longer fills that volume with this target's certificate.
      expect(mountsOf(certs)).toContainEqual([mount![0], `/tls/${name}`]);
      // Fails when a process may start before the certificates are copied.
      expect({ name, condition: service.depends_on?.['grpc-certs']?.condition }).toEqual({
        name,
        condition: 'service_completed_successfully',
      });
    }
    // Fails when the certificates do not come from `npm run certs`' folder, read-only.
    expect(mountsOf(certs)).toContainEqual(['./.data/certs', '/certs', 'ro']);
    const script = certs.command!.join(' ');
    for (const target of topology.targets) expect(script).toContain(target.name);
    // Fails when the CA's private key is copied to the services, or the key lands readable by others.
    expect(script).not.toMatch(/ca\.key/);
    expect(script).toMatch(/-m 0400 -t \/tls\/\$\$target \/certs\/\$\$target\.key/);
    // Fails when the copy runs on an image other than the Dockerfile's base (one more image to pull and trust).
    expect(certs.image).toBe(nodeImageOf(PROJECT_ROOT));
  });

  it("names the databases, the edge's included, from one FICUS_DATABASE_PREFIX", () => {
    const gateway = compose.services[topology.edgeTarget().name];
    const prefix = String(gateway.environment?.FICUS_DATABASE_PREFIX).replace(/\$\{\w+:-([^}]*)\}/, '$1');
    // Fails when the gateway's rate-limit database and the targets' databases take different prefixes.
    expect(edgeDatabaseOf(topology)).toBe(`${prefix}_edge`);
    expect(read(SHIPPED.compose.topology)).toContain('${FICUS_DATABASE_PREFIX:-ficus}_catalog');
    // Fails when the gateway loses the server it provisions <prefix>_edge on.
    expect(gateway.environment?.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
  });
});

describe('one compose service alone (for `ficus extract`)', () => {
  it('is the very text of that service in docker-compose.yml', () => {
    const { topology, source } = loadTopologyForDeploy(SHIPPED.compose.topology);
    const fragment = composeServiceText(topology.target('inventory'), source);
    const service = fragment
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join('\n');
    // Fails when the fragment and the full compose file write a service differently (two generators).
    expect(service).toMatch(/^ {2}inventory:\n {4}<<: \*ficus-process\n/);
    expect(read('docker-compose.yml')).toContain(service);
  });
});

describe('npm run deploy:generate', () => {
  it("writes one target's files with a canary and prints them as JSON", () => {
    const out = mkdtempSync(join(tmpdir(), 'ficus-deploy-'));
    try {
      const stdout = execFileSync(
        process.execPath,
        [
          '-r',
          '@swc-node/register',
          'apps/cli/src/deploy-generate.ts',
          '--out',
          out,
          '--target',
          'inventory',
          '--canary-weight',
          '25',
          '--image',
          'ficus:cli',
          '--json',
        ],
        { cwd: PROJECT_ROOT, encoding: 'utf8' },
      );
      const report = JSON.parse(stdout) as {
        image: string;
        canaryWeight: number;
        files: { path: string; objects: string[] }[];
      };
      // Fails when an option is ignored or --json stops saying what was written.
      expect(report).toMatchObject({ image: 'ficus:cli', canaryWeight: 25 });
      expect(report.files.map((file) => file.path.split('/').pop())).toEqual([
        'namespace.yaml',
        'topology.yaml',
        'inventory.yaml',
        'kustomization.yaml',
      ]);
      expect(report.files[2].objects).toContain('Deployment/inventory-canary');
      const written = parseAllDocuments(readFileSync(join(out, 'inventory.yaml'), 'utf8')).map(
        (d) => d.toJSON() as KubernetesObject,
      );
      expect(schemaProblems(written)).toEqual([]);
      expect(readdirSync(out).sort()).toEqual([
        'inventory.yaml',
        'kustomization.yaml',
        'namespace.yaml',
        'topology.yaml',
      ]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
