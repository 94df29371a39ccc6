import { createHash } from 'node:crypto';
// Types only (erased at build): the generator is checked against the same schemas' TypeScript
// declarations that test/deploy/generator.test.ts validates the objects with.
import type { IDestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import type { IVirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { DeployTarget, Topology } from '@infra/topology';
import type { DeployOptions } from './deploy-options';
import { kubernetesTopologyYaml, type TopologySource } from './kubernetes-topology';
import {
  commandOf,
  contextUrlVariable,
  databasePrefixOf,
  TLS_DIR,
  tlsFilesOf,
  TOPOLOGY_DIR,
  TOPOLOGY_FILE,
} from './process-layout';

/** Any object the generator writes: what `kubectl apply` needs to know of each. */
export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

/** Istio's stable API (Istio ≥ 1.22); its schema is the one v1beta1 serves (see the ADR 0027). */
export const ISTIO_NETWORKING_API = 'networking.istio.io/v1';
export const TOPOLOGY_CONFIG_MAP = 'ficus-topology';
export const MANAGED_BY = 'ficus-deploy-generator';

/** Pods of a target: `stable` is the Deployment the HPA scales; `canary` the optional second one. */
export type Track = 'stable' | 'canary';

/** The names of what belongs to one target; the Service's is the name other targets dial. */
export function namesOf(target: string) {
  return {
    deployment: target,
    canaryDeployment: `${target}-canary`,
    service: target,
    serviceAccount: target,
    config: `${target}-config`,
    /** Made by the operator, never by the generator: DATABASE_URL and the target's other secrets. */
    credentials: `${target}-credentials`,
    /** Made by the operator (or cert-manager): `ca.crt`, `tls.crt`, `tls.key` of the target's certificate. */
    grpcTls: `${target}-grpc-tls`,
  } as const;
}

/** What the Service, the PodDisruptionBudget and Istio's subsets select by. */
export function selectorOf(target: string, track: Track): Record<string, string> {
  return { app: target, version: track };
}

// Sized for the shop on small nodes; the HPA adds pods rather than the pods growing.
const RESOURCES = { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } };
/** V8's heap below the memory limit, leaving room for buffers and native memory (argon2, pg). */
const NODE_HEAP_MB = 384;
/** Endpoints are removed asynchronously: keep serving this long after the pod is marked terminating. */
const PRE_STOP_SLEEP_SECONDS = 10;
/** preStop + closing HTTP, gRPC, Kafka consumers and pools (the app's own shutdown) with slack. */
const TERMINATION_GRACE_SECONDS = 45;
const CPU_UTILIZATION_PERCENT = 70;
const OUTLIER_DETECTION = {
  consecutive5xxErrors: 5,
  consecutiveGatewayErrors: 5,
  interval: '30s',
  baseEjectionTime: '30s',
  maxEjectionPercent: 50,
};

function metadataOf(
  name: string,
  target: DeployTarget | undefined,
  options: DeployOptions,
): KubernetesObject['metadata'] {
  return {
    name,
    namespace: options.namespace,
    labels: {
      ...(target
        ? { 'app.kubernetes.io/name': target.name, 'app.kubernetes.io/component': target.edge ? 'edge' : 'service' }
        : {}),
      'app.kubernetes.io/part-of': 'ficus',
      'app.kubernetes.io/managed-by': MANAGED_BY,
    },
  };
}

export function namespaceObject(options: DeployOptions): KubernetesObject & INamespace {
  const metadata = metadataOf(options.namespace, undefined, options);
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    // Istio injects its sidecar into every pod of the namespace: the VirtualServices and
    // DestinationRules below act through it.
    metadata: { name: metadata.name, labels: { ...metadata.labels, 'istio-injection': 'enabled' } },
  };
}

export function topologyConfigMap(input: TopologySource, options: DeployOptions): KubernetesObject & IConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadataOf(TOPOLOGY_CONFIG_MAP, undefined, options),
    data: { [TOPOLOGY_FILE]: kubernetesTopologyYaml(input) },
  };
}

/** The non-secret environment of a target's processes. */
export function environmentOf(topology: Topology, options: DeployOptions): Record<string, string> {
  return {
    FICUS_TOPOLOGY: `${TOPOLOGY_DIR}/${TOPOLOGY_FILE}`,
    KAFKA_BROKERS: options.kafkaBrokers,
    FICUS_KAFKA_REPLICATION_FACTOR: String(options.kafkaReplicationFactor),
    FICUS_GRPC_TLS_DIR: TLS_DIR,
    // The bare edge names its rate-limit database <prefix>_edge; the services' names are in the topology.
    FICUS_DATABASE_PREFIX: databasePrefixOf(topology),
    NODE_OPTIONS: `--max-old-space-size=${NODE_HEAP_MB}`,
    LOG_LEVEL: 'info',
  };
}

/** The objects of one target of the topology; with `topologyConfigMap` and `namespaceObject` they run it. */
export function kubernetesObjectsForTarget(
  input: TopologySource,
  targetName: string,
  options: DeployOptions,
): KubernetesObject[] {
  const { topology } = input;
  const target = topology.target(targetName);
  const names = namesOf(target.name);
  const env = environmentOf(topology, options);
  const configMap: KubernetesObject & IConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadataOf(names.config, target, options),
    data: env,
  };
  // A change of the topology or of the environment rolls the pods, which read both only at start.
  const checksum = createHash('sha256').update(kubernetesTopologyYaml(input)).update(JSON.stringify(env)).digest('hex');

  const serviceAccount: KubernetesObject & IServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: metadataOf(names.serviceAccount, target, options),
    // Its identity is what Istio's own mutual TLS names; the pods never call the Kubernetes API.
    automountServiceAccountToken: false,
  };

  const service: KubernetesObject & IService = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadataOf(names.service, target, options),
    spec: {
      type: 'ClusterIP',
      selector: { app: target.name },
      ports: [
        { name: 'http', port: target.http.port, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
        // ficus encrypts gRPC itself (mutual TLS, ADR 0023), so the mesh sees opaque TCP: appProtocol
        // wins over the port's name in Istio's protocol selection, and routes are `tcp` routes.
        ...(target.grpc
          ? [{ name: 'grpc', port: target.grpc.port, targetPort: 'grpc', protocol: 'TCP' as const, appProtocol: 'tcp' }]
          : []),
      ],
    },
  };

  const deployments = [deploymentOf(topology, target, 'stable', options, checksum)];
  if (target.grpc && hasCanary(target.name, options))
    deployments.push(deploymentOf(topology, target, 'canary', options, checksum));

  const autoscaler: KubernetesObject & IHorizontalPodAutoscaler = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: metadataOf(names.deployment, target, options),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: names.deployment },
      minReplicas: options.replicas.min,
      maxReplicas: options.replicas.max,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: CPU_UTILIZATION_PERCENT } },
        },
      ],
    },
  };

  const disruptionBudget: KubernetesObject & IPodDisruptionBudget = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadataOf(names.deployment, target, options),
    spec: {
      // A drained node never takes the last stable pod of a target with it.
      minAvailable: 1,
      selector: { matchLabels: selectorOf(target.name, 'stable') },
    },
  };

  const objects: KubernetesObject[] = [
    serviceAccount,
    configMap,
    service,
    ...deployments,
    autoscaler,
    disruptionBudget,
  ];
  if (target.grpc) objects.push(...meshRoutingOf(target, options));
  return objects;
}

/**
 * The Secret a target's processes read their credentials from: its own, except while it is being
 * extracted (`ficus extract`). It then works on its owner's database, as its owner's roles: the
 * same DATABASE_URL and the same FICUS_DB_ROLE_SECRET, or starting it would set the context's role
 * to another password under the owner's feet (provisioning sets the password of an existing role).
 * Its gRPC certificate stays its own: callers check that they reach the target they meant.
 */
export function credentialsOf(target: DeployTarget): string {
  return namesOf(target.extractedFrom ?? target.name).credentials;
}

function hasCanary(target: string, options: DeployOptions): boolean {
  const { canary } = options;
  const chosen = canary.targets === undefined || canary.targets.includes(target);
  return chosen && (canary.weight > 0 || canary.image !== undefined);
}

function deploymentOf(
  topology: Topology,
  target: DeployTarget,
  track: Track,
  options: DeployOptions,
  checksum: string,
): KubernetesObject & IDeployment {
  const names = namesOf(target.name);
  const selector = selectorOf(target.name, track);
  const tls = tlsFilesOf(target.name);
  const image = track === 'canary' ? (options.canary.image ?? options.image) : options.image;
  // Probes ask the operations port: the edge's own beside its public API, any other target's HTTP port.
  const httpGet = (path: string) => ({ path, port: target.operations.port, scheme: 'HTTP' as const });
  const credentials = credentialsOf(target);
  // Every secret comes by reference; the generator never sees a value.
  const secret = (key: string) => ({ name: key, valueFrom: { secretKeyRef: { name: credentials, key } } });
  const contextUrls =
    target.database.kind === 'url' ? target.modules.map((module) => secret(contextUrlVariable(module))) : [];
  const multiProcess = !topology.isSingleProcess;

  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadataOf(track === 'stable' ? names.deployment : names.canaryDeployment, target, options),
    spec: {
      // The stable Deployment's replicas belong to its HPA (an applied number would reset them);
      // a canary is one pod that gets its share through the VirtualService's weight.
      ...(track === 'canary' ? { replicas: 1 } : {}),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: { ...selector, 'app.kubernetes.io/name': target.name, 'app.kubernetes.io/part-of': 'ficus' },
          annotations: {
            'checksum/config': checksum,
            // The app connects to PostgreSQL and Kafka at start: only once the sidecar can carry it.
            'proxy.istio.io/config': '{ "holdApplicationUntilProxyStarts": true }',
          },
        },
        spec: {
          serviceAccountName: names.serviceAccount,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
          // `node` of the image; fsGroup makes the mounted key readable to it and to no one else.
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            fsGroup: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'ficus',
              image,
              imagePullPolicy: 'IfNotPresent',
              command: commandOf(target),
              ports: [
                { name: 'http', containerPort: target.http.port, protocol: 'TCP' },
                // Probes and Prometheus only: no Service, Ingress or Gateway routes to it.
                ...(target.operations.port !== target.http.port
                  ? [{ name: 'ops', containerPort: target.operations.port, protocol: 'TCP' as const }]
                  : []),
                ...(target.grpc
                  ? [{ name: 'grpc', containerPort: target.grpc.listenPort, protocol: 'TCP' as const }]
                  : []),
              ],
              envFrom: [{ configMapRef: { name: names.config } }, { secretRef: { name: credentials } }],
              // Named once more so that a Secret without it fails the pod's start instead of the
              // process silently starting an embedded PostgreSQL.
              env: [secret('DATABASE_URL'), ...contextUrls],
              // Migrations run before the HTTP port opens: up to five minutes before liveness counts.
              startupProbe: { httpGet: httpGet('/health'), periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 60 },
              livenessProbe: { httpGet: httpGet('/health'), periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
              readinessProbe: { httpGet: httpGet('/ready'), periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
              lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } },
              resources: RESOURCES,
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'topology', mountPath: TOPOLOGY_DIR, readOnly: true },
                ...(multiProcess ? [{ name: 'grpc-tls', mountPath: TLS_DIR, readOnly: true }] : []),
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'topology', configMap: { name: TOPOLOGY_CONFIG_MAP } },
            ...(multiProcess
              ? [
                  {
                    name: 'grpc-tls',
                    secret: {
                      secretName: names.grpcTls,
                      defaultMode: 0o440,
                      // A kubernetes.io/tls Secret (cert-manager's, or one made from `npm run certs`)
                      // laid out as grpc-tls.ts reads it: ca.crt, <target>.crt, <target>.key.
                      items: [
                        { key: 'ca.crt', path: tls.ca },
                        { key: 'tls.crt', path: tls.cert },
                        { key: 'tls.key', path: tls.key },
                      ],
                    },
                  },
                ]
              : []),
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
}

/**
 * Istio's routing of the connections to a gRPC target: `stable` and `canary` subsets by the pods'
 * `version` label, weighted by `options.canary.weight`, and outlier detection that ejects a pod
 * after 5 errors in a row. gRPC is TLS end to end (ficus's own mutual TLS), so these are
 * `tcp` routes: a weight splits connections, not calls.
 */
function meshRoutingOf(target: DeployTarget, options: DeployOptions): KubernetesObject[] {
  const grpc = target.grpc!;
  const canaryWeight = hasCanary(target.name, options) ? options.canary.weight : 0;
  const destination = (subset: Track) => ({ host: target.name, subset, port: { number: grpc.port } });
  const destinationRule: KubernetesObject & Omit<IDestinationRule, 'apiVersion'> = {
    apiVersion: ISTIO_NETWORKING_API,
    kind: 'DestinationRule',
    metadata: metadataOf(target.name, target, options),
    spec: {
      host: target.name,
      // For opaque TCP, Istio counts connect failures as the consecutive 5xx errors.
      trafficPolicy: { outlierDetection: OUTLIER_DETECTION },
      subsets: (['stable', 'canary'] as const).map((track) => ({ name: track, labels: { version: track } })),
    },
  };
  const virtualService: KubernetesObject & Omit<IVirtualService, 'apiVersion'> = {
    apiVersion: ISTIO_NETWORKING_API,
    kind: 'VirtualService',
    metadata: metadataOf(target.name, target, options),
    spec: {
      hosts: [target.name],
      tcp: [
        {
          match: [{ port: grpc.port }],
          route: [
            { destination: destination('stable'), weight: 100 - canaryWeight },
            { destination: destination('canary'), weight: canaryWeight },
          ],
        },
      ],
    },
  };
  return [destinationRule, virtualService];
}
