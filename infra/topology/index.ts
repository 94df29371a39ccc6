export { KNOWN_MODULES, type KnownModule } from './known-modules';
export type { Environment } from './env-interpolation';
export {
  type BreakerSettings,
  type BulkheadSettings,
  DEFAULT_DISCOVERY,
  type DiscoverySettings,
  type MethodPolicySettings,
  type ResilienceSettings,
  type CanaryRoute,
  type LegacyUpstream,
  type DeployTarget,
  type GrpcEndpoint,
  type HttpEndpoint,
  type KafkaSettings,
  type TargetDatabase,
  Topology,
} from './topology';
export { formatIssue, TopologyError, type TopologyIssue } from './topology-error';
export {
  DEFAULT_DEADLINE_MS,
  DEFAULT_OPERATIONS_PORT_OFFSET,
  operationsPortOf,
  DEFAULT_PARTITIONS,
  loadTopology,
  parseTopology,
  SHIPPED_TOPOLOGIES,
  shippedTopologyPath,
  type TopologyOptions,
} from './topology-loader';
