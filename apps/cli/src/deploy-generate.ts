import { relative, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { commaSeparated } from '@infra/config';
import {
  composeFile,
  DEFAULT_DEPLOY_OPTIONS,
  deployOptions,
  type GeneratedFile,
  kubernetesFiles,
  loadTopologyForDeploy,
  SHIPPED,
  shippedImage,
  writeGeneratedFiles,
} from '@infra/deploy/generator';

/**
 * `npm run deploy:generate [-- options]`: the deploy files of a topology (docs/deploy.md). With no
 * options it writes what the repository ships: docker-compose.yml from infra/topology/compose.yaml
 * and infra/deploy/kubernetes/ from infra/topology/split.yaml; a test fails when those differ from
 * what this writes. `--target <name>` writes one target's Kubernetes files only (what
 * `ficus extract` will do).
 */
const wholeNumber = (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
};

const program = new Command('deploy:generate')
  .description('write the compose and Kubernetes files of a ficus topology')
  .option('--topology <file>', 'topology of the Kubernetes files', SHIPPED.kubernetes.topology)
  .option('--out <dir>', 'folder of the Kubernetes files', SHIPPED.kubernetes.dir)
  .option('--target <names>', 'only these targets (comma-separated), and no compose file', commaSeparated)
  .option('--compose-topology <file>', 'compose topology (gRPC hosts = service names)', SHIPPED.compose.topology)
  .option('--compose <file>', 'where the compose file goes', SHIPPED.compose.file)
  .option('--no-compose', 'write no compose file')
  .option('--image <image>', 'image of every process (default: ficus:<package.json version>)')
  .option('--namespace <name>', 'Kubernetes namespace', DEFAULT_DEPLOY_OPTIONS.namespace)
  .option('--kafka-brokers <list>', 'KAFKA_BROKERS in Kubernetes', DEFAULT_DEPLOY_OPTIONS.kafkaBrokers)
  .option(
    '--kafka-replication-factor <n>',
    'replication of the topics ficus creates',
    wholeNumber,
    DEFAULT_DEPLOY_OPTIONS.kafkaReplicationFactor,
  )
  .option('--min-replicas <n>', 'pods per target, at least', wholeNumber, DEFAULT_DEPLOY_OPTIONS.replicas.min)
  .option('--max-replicas <n>', 'pods per target, at most', wholeNumber, DEFAULT_DEPLOY_OPTIONS.replicas.max)
  .option(
    '--canary-weight <percent>',
    'share of connections to each gRPC target that go to its canary',
    wholeNumber,
    DEFAULT_DEPLOY_OPTIONS.canary.weight,
  )
  .option('--canary-image <image>', 'image of the canary Deployments (default: --image)')
  .option(
    '--canary-targets <names>',
    'targets that get a canary (comma-separated; default: every gRPC target)',
    commaSeparated,
  )
  .option('--json', 'print what was written as JSON')
  .parse();

interface Options {
  topology: string;
  out: string;
  target?: string[];
  composeTopology: string;
  compose: string | false;
  image?: string;
  namespace: string;
  kafkaBrokers: string;
  kafkaReplicationFactor: number;
  minReplicas: number;
  maxReplicas: number;
  canaryWeight: number;
  canaryImage?: string;
  canaryTargets?: string[];
  json?: boolean;
}

function main(): void {
  const opts = program.opts<Options>();
  const cwd = process.cwd();
  const options = deployOptions({
    image: opts.image ?? shippedImage(),
    namespace: opts.namespace,
    kafkaBrokers: opts.kafkaBrokers,
    kafkaReplicationFactor: opts.kafkaReplicationFactor,
    replicas: { min: opts.minReplicas, max: opts.maxReplicas },
    canary: { weight: opts.canaryWeight, image: opts.canaryImage, targets: opts.canaryTargets },
  });
  const input = loadTopologyForDeploy(resolve(cwd, opts.topology));
  const { topology, source } = input;
  const unknown = (opts.canaryTargets ?? []).filter(
    (name) => !topology.targets.some((target) => target.name === name && target.grpc),
  );
  if (unknown.length > 0)
    throw new Error(
      `--canary-targets: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a gRPC target of ${source}`,
    );

  const written: { path: string; objects: string[] }[] = [];
  const record = (dir: string, files: readonly GeneratedFile[]) => {
    writeGeneratedFiles(dir, files).forEach((path, index) =>
      written.push({
        path: relative(cwd, path),
        objects: files[index].objects.map((object) => `${object.kind}/${object.metadata.name}`),
      }),
    );
  };
  record(resolve(cwd, opts.out), kubernetesFiles({ ...input, options, targets: opts.target }));
  if (opts.compose !== false && !opts.target) {
    const compose = composeFile(resolve(cwd, opts.composeTopology));
    const path = resolve(cwd, opts.compose);
    record(resolve(path, '..'), [{ ...compose, path: relative(resolve(path, '..'), path) }]);
  }

  if (opts.json) {
    const report = { topology: source, image: options.image, canaryWeight: options.canary.weight, files: written };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const file of written)
      process.stdout.write(
        `deploy: wrote ${file.path}${file.objects.length > 0 ? ` (${file.objects.join(', ')})` : ''}\n`,
      );
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`deploy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
