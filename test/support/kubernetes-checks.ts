import { DestinationRule, VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import {
  ISTIO_NETWORKING_API,
  type KubernetesObject,
  TOPOLOGY_CONFIG_MAP,
  TOPOLOGY_FILE,
} from '@infra/deploy/generator';
import type { Topology } from '@infra/topology';

/**
 * Checks of generated Kubernetes objects as files (no cluster here): against the Kubernetes and
 * Istio schemas (kubernetes-models, @kubernetes-models/istio), and against the topology they came
 * from. Shared by the generator's tests and `ficus extract`'s, which writes through the generator.
 */
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
export function validate(object: KubernetesObject): void {
  const Model = MODELS[object.kind];
  if (!Model) throw new Error(`no schema for kind ${object.kind}: add its model to MODELS`);
  if (object.kind === 'VirtualService' || object.kind === 'DestinationRule') {
    if (object.apiVersion !== ISTIO_NETWORKING_API)
      throw new Error(`${object.kind} ${object.metadata.name}: apiVersion ${object.apiVersion}`);
    const { apiVersion: _ignored, ...rest } = object;
    new Model(rest as never).validate();
    return;
  }
  new Model(object as never).validate();
}

export const schemaProblems = (objects: readonly KubernetesObject[]): string[] =>
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
  volumes?: {
    name: string;
    configMap?: { name: string };
    secret?: { secretName: string; items?: { key: string; path: string }[] };
  }[];
  terminationGracePeriodSeconds?: number;
}
export interface DeploymentShape {
  metadata: { name: string };
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

export const all = (objects: readonly KubernetesObject[], kind: string) =>
  objects.filter((object) => object.kind === kind);
export const named = (objects: readonly KubernetesObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
export const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);
const SECRET_NAME = /URL|SECRET|PASSWORD|TOKEN|KEY/;

/** `only`: the targets whose objects these are (`ficus extract` writes two); every target when absent. */
export function topologyProblems(
  topology: Topology,
  objects: readonly KubernetesObject[],
  only?: readonly string[],
): string[] {
  const problems: string[] = [];
  const problem = (text: string) => problems.push(text);
  const configMaps = all(objects, 'ConfigMap') as unknown as {
    metadata: { name: string };
    data: Record<string, string>;
  }[];
  const credentialSecrets = new Map<string, string>();
  const databaseSecretOf = (target: string) =>
    (
      (named(objects, 'Deployment', target) as unknown as DeploymentShape | undefined)?.spec.template.spec.containers[0]
        .env ?? []
    ).find((v) => v.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef?.name;

  for (const target of topology.targets.filter((t) => !only || only.includes(t.name))) {
    const deployment = named(objects, 'Deployment', target.name) as unknown as DeploymentShape | undefined;
    const service = named(objects, 'Service', target.name) as unknown as
      | {
          spec: {
            selector: Record<string, string>;
            ports: { name: string; port: number; targetPort: string | number }[];
          };
        }
      | undefined;
    if (!deployment || !service) {
      problem(`${target.name}: no Deployment or no Service`);
      continue;
    }
    const pod = deployment.spec.template;
    const container = pod.spec.containers[0];
    if (!selects(deployment.spec.selector.matchLabels, pod.metadata.labels))
      problem(`${target.name}: the Deployment's selector does not select its pods`);
    if (!selects(service.spec.selector, pod.metadata.labels))
      problem(`${target.name}: the Service does not select the Deployment's pods`);

    const containerPort = (name: string) => container.ports.find((port) => port.name === name)?.containerPort;
    const servicePort = (name: string) => service.spec.ports.find((port) => port.name === name);
    if (containerPort('http') !== target.http.port)
      problem(`${target.name}: container port http is ${containerPort('http')}, the topology's ${target.http.port}`);
    if (servicePort('http')?.port !== target.http.port)
      problem(`${target.name}: Service port http is ${servicePort('http')?.port}, the topology's ${target.http.port}`);
    if (target.grpc) {
      if (containerPort('grpc') !== target.grpc.listenPort)
        problem(
          `${target.name}: container port grpc is ${containerPort('grpc')}, the topology's ${target.grpc.listenPort}`,
        );
      if (servicePort('grpc')?.port !== target.grpc.port)
        problem(
          `${target.name}: Service port grpc is ${servicePort('grpc')?.port}, the topology's ${target.grpc.port}`,
        );
    } else if (servicePort('grpc') || containerPort('grpc')) {
      problem(`${target.name}: a grpc port, but the topology gives it no gRPC`);
    }
    for (const port of service.spec.ports) {
      if (!container.ports.some((p) => p.name === port.targetPort || p.containerPort === port.targetPort))
        problem(`${target.name}: Service port ${port.name} targets no container port`);
    }

    const probe = (which: 'livenessProbe' | 'readinessProbe', path: string) => {
      const get = container[which]?.httpGet;
      const port = typeof get?.port === 'string' ? containerPort(get.port) : get?.port;
      // The operations port: the edge's own beside its public API, any other target's HTTP port.
      if (get?.path !== path || port !== target.operations.port)
        problem(`${target.name}: ${which} asks ${get?.path} on ${port}, not ${path} on ${target.operations.port}`);
    };
    probe('livenessProbe', '/health');
    probe('readinessProbe', '/ready');
    if (!container.lifecycle?.preStop || !pod.spec.terminationGracePeriodSeconds)
      problem(`${target.name}: no preStop or no grace period`);
    if (!container.resources?.requests?.cpu || !container.resources.limits?.memory)
      problem(`${target.name}: no CPU request or memory limit (the HPA needs the request)`);

    const expectedCommand = target.edge
      ? ['node', 'dist/apps/gateway/src/main.js']
      : ['node', 'dist/apps/service/src/main.js', '--target', target.name];
    if (JSON.stringify(container.command) !== JSON.stringify(expectedCommand))
      problem(`${target.name}: command ${container.command.join(' ')}`);

    // Environment: non-secret from the target's ConfigMap; secrets only by reference, to a Secret of its own.
    const configName = container.envFrom?.find((source) => source.configMapRef)?.configMapRef?.name;
    const config = configMaps.find((map) => map.metadata.name === configName)?.data;
    if (!config) problem(`${target.name}: envFrom names no ConfigMap of the output`);
    for (const variable of container.env ?? []) {
      if (variable.value !== undefined && SECRET_NAME.test(variable.name))
        problem(`${target.name}: ${variable.name} has a value, not a secretKeyRef`);
    }
    for (const [key] of Object.entries(config ?? {}))
      if (SECRET_NAME.test(key)) problem(`${target.name}: ${key} is in a ConfigMap`);
    const databaseUrl = container.env?.find((variable) => variable.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
    if (!databaseUrl) problem(`${target.name}: DATABASE_URL comes from no secretKeyRef`);
    else if (target.extractedFrom) {
      // While extracted, it works on its owner's database as its owner's roles: the owner's Secret.
      if (databaseUrl.name !== databaseSecretOf(target.extractedFrom))
        problem(
          `${target.name}: DATABASE_URL from ${databaseUrl.name}, not from the Secret of ${target.extractedFrom}, whose database it works on`,
        );
      if (!container.envFrom?.some((source) => source.secretRef?.name === databaseUrl.name))
        problem(`${target.name}: the rest of its Secret is not in envFrom`);
    } else {
      const owner = credentialSecrets.get(databaseUrl.name);
      if (owner) problem(`${target.name}: its credentials Secret ${databaseUrl.name} is also ${owner}'s`);
      credentialSecrets.set(databaseUrl.name, target.name);
      if (!container.envFrom?.some((source) => source.secretRef?.name === databaseUrl.name))
        problem(`${target.name}: the rest of its Secret is not in envFrom`);
    }

    // The topology the process reads: the ConfigMap's file, mounted where FICUS_TOPOLOGY says.
    const mount = (name: string) => container.volumeMounts?.find((m) => m.name === name);
    const volume = (name: string) => pod.spec.volumes?.find((v) => v.name === name);
    const topologyMount = container.volumeMounts?.find((m) => volume(m.name)?.configMap?.name === TOPOLOGY_CONFIG_MAP);
    if (!topologyMount || config?.FICUS_TOPOLOGY !== `${topologyMount.mountPath}/${TOPOLOGY_FILE}`)
      problem(`${target.name}: FICUS_TOPOLOGY ${config?.FICUS_TOPOLOGY} is not the mounted topology`);

    // Mutual TLS: the target's own certificate Secret, mounted read-only where FICUS_GRPC_TLS_DIR
    // says, with the file names infra/messaging/grpc/grpc-tls.ts reads.
    if (!topology.isSingleProcess) {
      const tls = pod.spec.volumes?.find((v) => v.secret && mount(v.name)?.mountPath === config?.FICUS_GRPC_TLS_DIR);
      const paths = (tls?.secret?.items ?? []).map((item) => item.path).sort();
      if (!tls || !mount(tls.name)?.readOnly)
        problem(`${target.name}: no read-only Secret volume at FICUS_GRPC_TLS_DIR (${config?.FICUS_GRPC_TLS_DIR})`);
      else if (JSON.stringify(paths) !== JSON.stringify(['ca.crt', `${target.name}.crt`, `${target.name}.key`].sort()))
        problem(`${target.name}: TLS files ${paths.join(', ')}`);
      else if (!tls.secret!.secretName.startsWith(`${target.name}-`))
        problem(`${target.name}: TLS Secret ${tls.secret!.secretName} is not its own`);
    }

    // Scaling and disruption: both about this Deployment's pods.
    const hpa = all(objects, 'HorizontalPodAutoscaler').find(
      (o) => (o as unknown as { spec: { scaleTargetRef: { name: string } } }).spec.scaleTargetRef.name === target.name,
    ) as { spec: { scaleTargetRef: { kind: string }; metrics: { resource?: { name: string } }[] } } | undefined;
    if (hpa?.spec.scaleTargetRef.kind !== 'Deployment' || hpa.spec.metrics[0]?.resource?.name !== 'cpu')
      problem(`${target.name}: no CPU HorizontalPodAutoscaler of its Deployment`);
    const pdb = named(objects, 'PodDisruptionBudget', target.name) as unknown as
      { spec: { selector: { matchLabels: Record<string, string> } } } | undefined;
    if (!pdb || !selects(pdb.spec.selector.matchLabels, pod.metadata.labels))
      problem(`${target.name}: its PodDisruptionBudget does not select its pods`);

    // Istio: per gRPC target, subsets that select pods of a Deployment, weights that add to 100.
    const virtualService = named(objects, 'VirtualService', target.name) as unknown as
      | {
          spec: {
            hosts: string[];
            tcp: {
              match: { port: number }[];
              route: { destination: { host: string; subset: string; port: { number: number } }; weight: number }[];
            }[];
          };
        }
      | undefined;
    const destinationRule = named(objects, 'DestinationRule', target.name) as unknown as
      | {
          spec: {
            host: string;
            subsets: { name: string; labels: Record<string, string> }[];
            trafficPolicy: { outlierDetection: Record<string, unknown> };
          };
        }
      | undefined;
    if (!target.grpc) {
      if (virtualService || destinationRule) problem(`${target.name}: Istio routing for a target without gRPC`);
      continue;
    }
    if (!virtualService || !destinationRule) {
      problem(`${target.name}: no VirtualService or DestinationRule`);
      continue;
    }
    if (destinationRule.spec.host !== target.name || !virtualService.spec.hosts.includes(target.name))
      problem(`${target.name}: Istio host is not its Service`);
    const routes = virtualService.spec.tcp.flatMap((rule) => rule.route);
    if (routes.reduce((sum, route) => sum + route.weight, 0) !== 100)
      problem(`${target.name}: route weights do not add up to 100`);
    for (const route of routes) {
      const subset = destinationRule.spec.subsets.find((s) => s.name === route.destination.subset);
      if (!subset) problem(`${target.name}: route to an undeclared subset ${route.destination.subset}`);
      else if (
        route.weight > 0 &&
        !all(objects, 'Deployment').some((d) =>
          selects(subset.labels, (d as unknown as DeploymentShape).spec.template.metadata.labels),
        )
      ) {
        problem(`${target.name}: ${route.weight}% go to subset ${subset.name}, which selects no pods`);
      }
      if (route.destination.port.number !== target.grpc.port)
        problem(`${target.name}: route to port ${route.destination.port.number}`);
    }
    const outlier = destinationRule.spec.trafficPolicy.outlierDetection;
    expect({ target: target.name, outlier }).toMatchObject({
      target: target.name,
      outlier: { consecutive5xxErrors: 5, consecutiveGatewayErrors: 5, interval: '30s', baseEjectionTime: '30s' },
    });
  }
  return problems;
}
