/**
 * What the deploy generator needs besides a topology. Everything has a default except the image,
 * so that the committed files are reproducible from `npm run deploy:generate` alone.
 */
export interface DeployOptions {
  /** The one image of every process (docs/adr/0013-one-image-for-every-process.md). */
  readonly image: string;
  /** Kubernetes namespace of every object. */
  readonly namespace: string;
  /** `KAFKA_BROKERS` of every process in Kubernetes (the topology reads it as `${KAFKA_BROKERS}`). */
  readonly kafkaBrokers: string;
  /** `FICUS_KAFKA_REPLICATION_FACTOR`: replication of the topics ficus creates. */
  readonly kafkaReplicationFactor: number;
  /** Pods per target: the HorizontalPodAutoscaler's bounds. */
  readonly replicas: { readonly min: number; readonly max: number };
  readonly canary: CanaryOptions;
}

/**
 * A canary of a gRPC target: a second Deployment labelled `version: canary` that receives
 * `weight` per cent of the connections to the target, through Istio's VirtualService.
 */
export interface CanaryOptions {
  /** 0–100; 0 (the default) sends everything to `stable`. */
  readonly weight: number;
  /** The canary's image; the canary Deployment exists only when this is set or `weight` > 0. */
  readonly image?: string;
  /** The targets that get a canary; all gRPC targets when absent. */
  readonly targets?: readonly string[];
}

export const DEFAULT_DEPLOY_OPTIONS: Omit<DeployOptions, 'image'> = {
  namespace: 'ficus',
  kafkaBrokers: 'kafka:9092',
  kafkaReplicationFactor: 3,
  replicas: { min: 2, max: 6 },
  canary: { weight: 0 },
};

/** Defaults filled in, and the values checked: a bad option is an error here, not a bad manifest. */
export function deployOptions(given: Partial<DeployOptions> & Pick<DeployOptions, 'image'>): DeployOptions {
  const options: DeployOptions = {
    ...DEFAULT_DEPLOY_OPTIONS,
    ...given,
    canary: { ...DEFAULT_DEPLOY_OPTIONS.canary, ...given.canary },
  };
  const problems: string[] = [];
  if (!/^[^\s]+$/.test(options.image))
    problems.push(`image "${options.image}" must be an image reference without spaces, e.g. ficus:0.1.0`);
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(options.namespace))
    problems.push(`namespace "${options.namespace}" must be a DNS label (lowercase letters, digits, "-")`);
  if (!/^[^\s:,]+:\d{1,5}(,[^\s:,]+:\d{1,5})*$/.test(options.kafkaBrokers))
    problems.push(`kafka brokers "${options.kafkaBrokers}" must be host:port[,host:port...]`);
  if (
    !Number.isInteger(options.kafkaReplicationFactor) ||
    options.kafkaReplicationFactor < 1 ||
    options.kafkaReplicationFactor > 5
  ) {
    problems.push(`kafka replication factor ${options.kafkaReplicationFactor} must be a whole number from 1 to 5`);
  }
  const { min, max } = options.replicas;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min)
    problems.push(`replicas ${min}–${max} must be whole numbers with 1 ≤ min ≤ max`);
  const { weight } = options.canary;
  if (!Number.isInteger(weight) || weight < 0 || weight > 100)
    problems.push(`canary weight ${weight} must be a whole per cent from 0 to 100`);
  if (problems.length > 0) throw new Error(`deploy options:\n  ${problems.join('\n  ')}`);
  return options;
}
