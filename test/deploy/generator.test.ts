import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DestinationRule, VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';
import {
  type DeployOptions,
  deployOptions,
  edgeDatabaseOf,
  type GeneratedFile,
  ISTIO_NETWORKING_API,
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

/**
 * The deploy generator's output, checked as files (no cluster, no Docker here): every Kubernetes
 * object against the Kubernetes and Istio schemas (kubernetes-models, @kubernetes-models/istio),
 * and every object against the topology it came from. Each assertion names the edit it catches.
 */

const read = (path: string): string => readFileSync(join(PROJECT_ROOT, path), 'utf8');
const options = deployOptions({ image: 'ficus:test' });

/** The schema of each kind the generator writes; Istio's by the v1beta1 model (see validate()). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Namespace,
  ConfigMap,
  ServiceAccount,
  Service,
  Deployment,
  HorizontalPodAutoscaler,
  PodDisruptionBudget,
  VirtualService,
  DestinationRule,
};

/**
 * Throws the schema's complaint about one object. Istio's networking v1 serves the very schema of
 * v1beta1 (in @kubernetes-models/istio 3.x, which Jest cannot load, the two generated validators
 * differ only in the apiVersion string; ADR 0027), so an Istio object is validated as v1beta1 with
 * everything but its apiVersion, and its apiVersion is checked here.
 */
function validate(object: KubernetesObject): void {
  const Model = MODELS[object.kind];
  if (!Model) throw new Error(`no schema for kind ${object.kind}: add its model to MODELS`);
  if (object.kind === 'VirtualService' || object.kind === 'DestinationRule') {
    if (object.apiVersion !== ISTIO_NETWORKING_API) throw new Error(`${object.kind} ${object.metadata.name}: apiVersion ${object.apiVersion}`);
    const { apiVersion: _ignored, ...rest } = object;
    new Model(rest as never).validate();
    return;
  }
  new Model(object as never).validate();
}

const schemaProblems = (objects: readonly KubernetesObject[]): string[] =>
  objects.flatMap((object) => {
    try {
      validate(object);
      return [];
    } catch (error) {
      return [`${object.kind}/${object.metadata.name}: ${(error as Error).message}`];
    }
  });

// ---------------------------------------------------------------------------------------------
// What the objects must say of the topology. Returns every disagreement, so a planted break can
// show that the check sees it.

interface Container {
  name: string;
  command: string[];
  ports: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: { httpGet?: { path: string; port: number | string } };
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
  lifecycle?: { preStop?: unknown };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string }; secret?: { secretName: string; items?: { key: string; path: string }[] } }[];
  terminationGracePeriodSeconds?: number;
}
interface DeploymentShape {
  metadata: { name: string };
  spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}

const all = (objects: readonly KubernetesObject[], kind: string) => objects.filter((object) => object.kind === kind);
const named = (objects: readonly KubernetesObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([key, value]) => labels[key] === value);
const SECRET_NAME = /URL|SECRET|PASSWORD|TOKEN|KEY/;

function topologyProblems(topology: Topology, objects: readonly KubernetesObject[]): string[] {
  const problems: string[] = [];
  const problem = (text: string) => problems.push(text);
  const configMaps = all(objects, 'ConfigMap') as unknown as { metadata: { name: string }; data: Record<string, string> }[];
  const credentialSecrets = new Map<string, string>();

  for (const target of topology.targets) {
    const deployment = named(objects, 'Deployment', target.name) as unknown as DeploymentShape | undefined;
    const service = named(objects, 'Service', target.name) as unknown as
      | { spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string | number }[] } }
      | undefined;
    if (!deployment || !service) {
      problem(`${target.name}: no Deployment or no Service`);
      continue;
    }
    const pod = deployment.spec.template;
    const container = pod.spec.containers[0];
    if (!selects(deployment.spec.selector.matchLabels, pod.metadata.labels)) problem(`${target.name}: the Deployment's selector does not select its pods`);
    if (!selects(service.spec.selector, pod.metadata.labels)) problem(`${target.name}: the Service does not select the Deployment's pods`);

    const containerPort = (name: string) => container.ports.find((port) => port.name === name)?.containerPort;
    const servicePort = (name: string) => service.spec.ports.find((port) => port.name === name);
    if (containerPort('http') !== target.http.port) problem(`${target.name}: container port http is ${containerPort('http')}, the topology's ${target.http.port}`);
    if (servicePort('http')?.port !== target.http.port) problem(`${target.name}: Service port http is ${servicePort('http')?.port}, the topology's ${target.http.port}`);
    if (target.grpc) {
      if (containerPort('grpc') !== target.grpc.listenPort) problem(`${target.name}: container port grpc is ${containerPort('grpc')}, the topology's ${target.grpc.listenPort}`);
      if (servicePort('grpc')?.port !== target.grpc.port) problem(`${target.name}: Service port grpc is ${servicePort('grpc')?.port}, the topology's ${target.grpc.port}`);
    } else if (servicePort('grpc') || containerPort('grpc')) {
      problem(`${target.name}: a grpc port, but the topology gives it no gRPC`);
    }
    for (const port of service.spec.ports) {
      if (!container.ports.some((p) => p.name === port.targetPort || p.containerPort === port.targetPort)) problem(`${target.name}: Service port ${port.name} targets no container port`);
    }

    const probe = (which: 'livenessProbe' | 'readinessProbe', path: string) => {
      const get = container[which]?.httpGet;
      const port = typeof get?.port === 'string' ? containerPort(get.port) : get?.port;
      if (get?.path !== path || port !== target.http.port) problem(`${target.name}: ${which} asks ${get?.path} on ${port}, not ${path} on ${target.http.port}`);
    };
    probe('livenessProbe', '/health');
    probe('readinessProbe', '/ready');
    if (!container.lifecycle?.preStop || !pod.spec.terminationGracePeriodSeconds) problem(`${target.name}: no preStop or no grace period`);
    if (!container.resources?.requests?.cpu || !container.resources.limits?.memory) problem(`${target.name}: no CPU request or memory limit (the HPA needs the request)`);

    const expectedCommand = target.edge ? ['node', 'dist/apps/gateway/src/main.js'] : ['node', 'dist/apps/service/src/main.js', '--target', target.name];
    if (JSON.stringify(container.command) !== JSON.stringify(expectedCommand)) problem(`${target.name}: command ${container.command.join(' ')}`);

    // Environment: non-secret from the target's ConfigMap; secrets only by reference, to a Secret of its own.
    const configName = container.envFrom?.find((source) => source.configMapRef)?.configMapRef?.name;
    const config = configMaps.find((map) => map.metadata.name === configName)?.data;
    if (!config) problem(`${target.name}: envFrom names no ConfigMap of the output`);
    for (const variable of container.env ?? []) {
      if (variable.value !== undefined && SECRET_NAME.test(variable.name)) problem(`${target.name}: ${variable.name} has a value, not a secretKeyRef`);
    }
    for (const [key] of Object.entries(config ?? {})) if (SECRET_NAME.test(key)) problem(`${target.name}: ${key} is in a ConfigMap`);
    const databaseUrl = container.env?.find((variable) => variable.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
    if (!databaseUrl) problem(`${target.name}: DATABASE_URL comes from no secretKeyRef`);
    else {
      const owner = credentialSecrets.get(databaseUrl.name);
      if (owner) problem(`${target.name}: its credentials Secret ${databaseUrl.name} is also ${owner}'s`);
      credentialSecrets.set(databaseUrl.name, target.name);
      if (!container.envFrom?.some((source) => source.secretRef?.name === databaseUrl.name)) problem(`${target.name}: the rest of its Secret is not in envFrom`);
    }

    // The topology the process reads: the ConfigMap's file, mounted where FICUS_TOPOLOGY says.
    const mount = (name: string) => container.volumeMounts?.find((m) => m.name === name);
    const volume = (name: string) => pod.spec.volumes?.find((v) => v.name === name);
    const topologyMount = container.volumeMounts?.find((m) => volume(m.name)?.configMap?.name === TOPOLOGY_CONFIG_MAP);
    if (!topologyMount || config?.FICUS_TOPOLOGY !== `${topologyMount.mountPath}/${TOPOLOGY_FILE}`) problem(`${target.name}: FICUS_TOPOLOGY ${config?.FICUS_TOPOLOGY} is not the mounted topology`);

    // Mutual TLS: the target's own certificate Secret, mounted read-only where FICUS_GRPC_TLS_DIR
    // says, with the file names infra/messaging/grpc/grpc-tls.ts reads.
    if (!topology.isSingleProcess) {
      const tls = pod.spec.volumes?.find((v) => v.secret && mount(v.name)?.mountPath === config?.FICUS_GRPC_TLS_DIR);
      const paths = (tls?.secret?.items ?? []).map((item) => item.path).sort();
      if (!tls || !mount(tls.name)?.readOnly) problem(`${target.name}: no read-only Secret volume at FICUS_GRPC_TLS_DIR (${config?.FICUS_GRPC_TLS_DIR})`);
      else if (JSON.stringify(paths) !== JSON.stringify(['ca.crt', `${target.name}.crt`, `${target.name}.key`].sort())) problem(`${target.name}: TLS files ${paths.join(', ')}`);
      else if (!tls.secret!.secretName.startsWith(`${target.name}-`)) problem(`${target.name}: TLS Secret ${tls.secret!.secretName} is not its own`);
    }

    // Scaling and disruption: both about this Deployment's pods.
    const hpa = all(objects, 'HorizontalPodAutoscaler').find((o) => (o as unknown as { spec: { scaleTargetRef: { name: string } } }).spec.scaleTargetRef.name === target.name) as
      | { spec: { scaleTargetRef: { kind: string }; metrics: { resource?: { name: string } }[] } }
      | undefined;
    if (hpa?.spec.scaleTargetRef.kind !== 'Deployment' || hpa.spec.metrics[0]?.resource?.name !== 'cpu') problem(`${target.name}: no CPU HorizontalPodAutoscaler of its Deployment`);
    const pdb = named(objects, 'PodDisruptionBudget', target.name) as unknown as { spec: { selector: { matchLabels: Record<string, string> } } } | undefined;
    if (!pdb || !selects(pdb.spec.selector.matchLabels, pod.metadata.labels)) problem(`${target.name}: its PodDisruptionBudget does not select its pods`);

    // Istio: per gRPC target, subsets that select pods of a Deployment, weights that add to 100.
    const virtualService = named(objects, 'VirtualService', target.name) as unknown as
      | { spec: { hosts: string[]; tcp: { match: { port: number }[]; route: { destination: { host: string; subset: string; port: { number: number } }; weight: number }[] }[] } }
      | undefined;
    const destinationRule = named(objects, 'DestinationRule', target.name) as unknown as
      | { spec: { host: string; subsets: { name: string; labels: Record<string, string> }[]; trafficPolicy: { outlierDetection: Record<string, unknown> } } }
      | undefined;
    if (!target.grpc) {
      if (virtualService || destinationRule) problem(`${target.name}: Istio routing for a target without gRPC`);
      continue;
    }
    if (!virtualService || !destinationRule) {
      problem(`${target.name}: no VirtualService or DestinationRule`);
      continue;
    }
    if (destinationRule.spec.host !== target.name || !virtualService.spec.hosts.includes(target.name)) problem(`${target.name}: Istio host is not its Service`);
    const routes = virtualService.spec.tcp.flatMap((rule) => rule.route);
    if (routes.reduce((sum, route) => sum + route.weight, 0) !== 100) problem(`${target.name}: route weights do not add up to 100`);
    for (const route of routes) {
      const subset = destinationRule.spec.subsets.find((s) => s.name === route.destination.subset);
      if (!subset) problem(`${target.name}: route to an undeclared subset ${route.destination.subset}`);
      else if (route.weight > 0 && !all(objects, 'Deployment').some((d) => selects(subset.labels, (d as unknown as DeploymentShape).spec.template.metadata.labels))) {
        problem(`${target.name}: ${route.weight}% go to subset ${subset.name}, which selects no pods`);
      }
      if (route.destination.port.number !== target.grpc.port) problem(`${target.name}: route to port ${route.destination.port.number}`);
    }
    const outlier = destinationRule.spec.trafficPolicy.outlierDetection;
    expect({ target: target.name, outlier }).toMatchObject({ target: target.name, outlier: { consecutive5xxErrors: 5, consecutiveGatewayErrors: 5, interval: '30s', baseEjectionTime: '30s' } });
  }
  return problems;
}

const objectsOf = (files: readonly GeneratedFile[]) => files.flatMap((file) => file.objects);
function generate(topologyPath: string, given: Partial<DeployOptions> = {}) {
  const input = loadTopologyForDeploy(topologyPath);
  const files = kubernetesFiles({ ...input, options: deployOptions({ ...options, ...given }) });
  return { input, topology: input.topology, files, objects: objectsOf(files) };
}

/** A deep copy of an object with one edit: the planted break. */
function broken(object: KubernetesObject, edit: (copy: Record<string, any>) => void): KubernetesObject { // eslint-disable-line @typescript-eslint/no-explicit-any -- a test edits arbitrary paths
  const copy = structuredClone(object) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- as above
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
    for (const file of shipped.kubernetes) expect({ file: file.path, content: read(join(SHIPPED.kubernetes.dir, file.path)) }).toEqual({ file: file.path, content: file.content });
    // Fails when the image drifts from package.json's version.
    expect(shipped.kubernetes.flatMap((f) => f.objects).filter((o) => o.kind === 'Deployment').map((d) => JSON.stringify(d))).toEqual(
      expect.arrayContaining([expect.stringContaining(`"image":"${shippedImage()}"`)]),
    );
  });

  it('each file parses back to the objects it was written from, and the kustomization lists every file', () => {
    for (const file of shipped.kubernetes.filter((f) => f.objects.length > 0)) {
      // Fails when the YAML writer loses or mangles a field (a number turned string, a document dropped).
      expect(parseAllDocuments(file.content).map((document) => document.toJSON())).toEqual(JSON.parse(JSON.stringify(file.objects)));
    }
    const kustomization = parse(shipped.kubernetes.find((f) => f.path === 'kustomization.yaml')!.content) as { resources: string[] };
    expect(kustomization.resources.sort()).toEqual(shipped.kubernetes.filter((f) => f.objects.length > 0).map((f) => f.path).sort());
  });
});

describe('Kubernetes objects validate against the Kubernetes and Istio schemas', () => {
  it.each([['infra/topology/split.yaml'], ['infra/topology/hybrid.yaml'], ['infra/topology/monolith.yaml']])('every object generated from %s', (path) => {
    const { objects } = generate(path);
    // Fails when the generator writes a field of the wrong type, a missing required field, or a kind without a schema.
    expect(schemaProblems(objects)).toEqual([]);
    expect(objects.length).toBeGreaterThan(0);
  });

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
    for (const object of planted) expect({ object: object.kind, problems: schemaProblems([object]).length }).toEqual({ object: object.kind, problems: 1 });
  });
});

describe('Kubernetes objects agree with the topology', () => {
  it.each([['infra/topology/split.yaml'], ['infra/topology/hybrid.yaml'], ['infra/topology/monolith.yaml']])('for %s', (path) => {
    const { topology, objects } = generate(path);
    // Fails when a port, a probe, a selector, the HPA's or the PDB's target, a secret reference, the
    // TLS mount or Istio's routing disagrees with the topology (see topologyProblems).
    expect(topologyProblems(topology, objects)).toEqual([]);
    // Fails when a Secret with values is generated: secrets are the operator's, referenced only.
    expect(all(objects, 'Secret')).toEqual([]);
  });

  it('catches a planted wrong probe port, a Service selecting nothing and an HPA aimed elsewhere', () => {
    const { topology, objects } = generate('infra/topology/split.yaml');
    const replace = (kind: string, name: string, edit: (copy: Record<string, any>) => void) => // eslint-disable-line @typescript-eslint/no-explicit-any -- a test edits arbitrary paths
      objects.map((object) => (object.kind === kind && object.metadata.name === name ? broken(object, edit) : object));
    const cases = [
      replace('Deployment', 'inventory', (d) => (d.spec.template.spec.containers[0].readinessProbe.httpGet.port = 7052)),
      replace('Deployment', 'inventory', (d) => (d.spec.template.spec.containers[0].livenessProbe.httpGet.path = '/ready')),
      replace('Service', 'ordering', (s) => (s.spec.selector = { app: 'orders' })),
      replace('Service', 'payments', (s) => (s.spec.ports[1].port = 7055)),
      replace('HorizontalPodAutoscaler', 'shipping', (h) => (h.spec.scaleTargetRef.name = 'shipping-v2')),
      replace('Deployment', 'identity', (d) => (d.spec.template.spec.containers[0].env[0] = { name: 'DATABASE_URL', value: 'postgres://u:p@db/x' })),
      replace('VirtualService', 'catalog', (v) => ((v.spec.tcp[0].route[0].weight = 50), (v.spec.tcp[0].route[1].weight = 50))),
      replace('Deployment', 'gateway', (d) => (d.spec.template.spec.volumes[1].secret.items[2].path = 'tls.key')),
    ];
    // Fails when the consistency check misses one of these breaks (each valid to the schema alone).
    cases.forEach((broke, index) => expect({ index, found: topologyProblems(topology, broke).length > 0 }).toEqual({ index, found: true }));
  });

  it('writes a topology for the pods that is the source with Service names as addresses', () => {
    const { topology, objects } = generate('infra/topology/split.yaml');
    const text = (named(objects, 'ConfigMap', TOPOLOGY_CONFIG_MAP) as unknown as { data: Record<string, string> }).data[TOPOLOGY_FILE];
    // What a pod's environment holds: its ConfigMap (the Secret holds no topology variable).
    const env = (named(objects, 'ConfigMap', 'catalog-config') as unknown as { data: Record<string, string> }).data;
    const inPods = parseTopology(text, 'topology.yaml', { env });
    const withoutHosts = (t: Topology) => t.targets.map((target) => ({ ...target, grpc: target.grpc && { ...target.grpc, host: '' }, http: { ...target.http, host: '' } }));
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

  it('configures the edge database as the other targets\' databases are: by prefix, on the server of its own DATABASE_URL', () => {
    const { topology, objects } = generate('infra/topology/split.yaml');
    const config = (name: string) => (named(objects, 'ConfigMap', `${name}-config`) as unknown as { data: Record<string, string> }).data;
    // Fails when the gateway's FICUS_DATABASE_PREFIX no longer names <prefix>_edge alongside <prefix>_<target>.
    expect(edgeDatabaseOf(topology)).toBe('ficus_edge');
    expect(`${config('gateway').FICUS_DATABASE_PREFIX}_edge`).toBe(edgeDatabaseOf(topology));
    for (const target of topology.targets.filter((t) => t.database.kind === 'name')) {
      expect(target.database).toEqual({ kind: 'name', name: `${config(target.name).FICUS_DATABASE_PREFIX}_${target.name}` });
    }
  });

  it('generates one target alone (for `ficus extract`) exactly as in the whole generation', () => {
    const { input, files } = generate('infra/topology/split.yaml');
    const alone = kubernetesFiles({ ...input, options, targets: ['inventory'] });
    // Fails when a single target's files differ from its part of the whole, or carry other targets.
    expect(alone.map((f) => f.path)).toEqual(['namespace.yaml', 'topology.yaml', 'inventory.yaml', 'kustomization.yaml']);
    expect(alone.find((f) => f.path === 'inventory.yaml')).toEqual(files.find((f) => f.path === 'inventory.yaml'));
    expect(kubernetesObjectsForTarget(input, 'inventory', options)).toEqual(files.find((f) => f.path === 'inventory.yaml')!.objects);
    expect(() => kubernetesFiles({ ...input, options, targets: ['inventroy'] })).toThrow(/no target "inventroy"/);
  });
});

describe('canary releases through Istio', () => {
  it('sends nothing to a canary by default and runs no canary Deployment', () => {
    const { objects } = generate('infra/topology/split.yaml');
    // Fails when the default weight is not 0 % canary.
    for (const vs of all(objects, 'VirtualService') as unknown as { spec: { tcp: { route: { destination: { subset: string }; weight: number }[] }[] } }[]) {
      expect(vs.spec.tcp[0].route.map((r) => [r.destination.subset, r.weight])).toEqual([['stable', 100], ['canary', 0]]);
    }
    expect(all(objects, 'Deployment').map((d) => d.metadata.name)).not.toContainEqual(expect.stringMatching(/-canary$/));
  });

  it('weights a canary Deployment of another image, valid to the schemas and to the topology', () => {
    const { topology, objects } = generate('infra/topology/split.yaml', { canary: { weight: 10, image: 'ficus:next', targets: ['inventory'] } });
    const canary = named(objects, 'Deployment', 'inventory-canary') as unknown as DeploymentShape & { spec: { replicas: number } };
    // Fails when the canary Deployment is missing, runs the stable image, or is not labelled canary.
    expect(canary.spec.template.metadata.labels.version).toBe('canary');
    expect(canary.spec.template.spec.containers[0]).toMatchObject({ image: 'ficus:next' });
    const vs = named(objects, 'VirtualService', 'inventory') as unknown as { spec: { tcp: { route: { weight: number }[] }[] } };
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
      expect({ name, condition: service.depends_on?.['grpc-certs']?.condition }).toEqual({ name, condition: 'service_completed_successfully' });
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

  it('names the databases, the edge\'s included, from one FICUS_DATABASE_PREFIX', () => {
    const gateway = compose.services[topology.edgeTarget().name];
    const prefix = String(gateway.environment?.FICUS_DATABASE_PREFIX).replace(/\$\{\w+:-([^}]*)\}/, '$1');
    // Fails when the gateway's rate-limit database and the targets' databases take different prefixes.
    expect(edgeDatabaseOf(topology)).toBe(`${prefix}_edge`);
    expect(read(SHIPPED.compose.topology)).toContain('${FICUS_DATABASE_PREFIX:-ficus}_catalog');
    // Fails when the gateway loses the server it provisions <prefix>_edge on.
    expect(gateway.environment?.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
  });
});

describe('npm run deploy:generate', () => {
  it('writes one target\'s files with a canary and prints them as JSON', () => {
    const out = mkdtempSync(join(tmpdir(), 'ficus-deploy-'));
    try {
      const stdout = execFileSync(
        process.execPath,
        ['-r', '@swc-node/register', 'apps/cli/src/deploy-generate.ts', '--out', out, '--target', 'inventory', '--canary-weight', '25', '--image', 'ficus:cli', '--json'],
        { cwd: PROJECT_ROOT, encoding: 'utf8' },
      );
      const report = JSON.parse(stdout) as { image: string; canaryWeight: number; files: { path: string; objects: string[] }[] };
      // Fails when an option is ignored or --json stops saying what was written.
      expect(report).toMatchObject({ image: 'ficus:cli', canaryWeight: 25 });
      expect(report.files.map((file) => file.path.split('/').pop())).toEqual(['namespace.yaml', 'topology.yaml', 'inventory.yaml', 'kustomization.yaml']);
      expect(report.files[2].objects).toContain('Deployment/inventory-canary');
      const written = parseAllDocuments(readFileSync(join(out, 'inventory.yaml'), 'utf8')).map((d) => d.toJSON() as KubernetesObject);
      expect(schemaProblems(written)).toEqual([]);
      expect(readdirSync(out).sort()).toEqual(['inventory.yaml', 'kustomization.yaml', 'namespace.yaml', 'topology.yaml']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
