import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import {
  DEFAULT_DEPLOY_OPTIONS,
  deployOptions,
  namesOf,
  PROJECT_ROOT,
  shippedImage,
  writeGeneratedFiles,
} from '@infra/deploy/generator';
import {
  eventLinksOfPacts,
  extract,
  extractingName,
  ExtractionRefused,
  KUBERNETES_DIR,
  type EventLink,
  type Extraction,
  whose,
} from '@infra/deploy/extraction';
import { parseTopology, SHIPPED_TOPOLOGIES, shippedTopologyPath, TopologyError } from '@infra/topology';
import { given } from '@infra/config';
import { CliError, type CliCommand, type CliIo } from '../cli-command';

interface ExtractOptions {
  readonly topology?: string;
  readonly out?: string;
  readonly deployDir?: string;
  readonly grpcPort?: number;
  readonly httpPort?: number;
  readonly image?: string;
  readonly namespace: string;
  readonly json?: boolean;
  readonly dryRun?: boolean;
  readonly force?: boolean;
}

const port = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65_535)
    throw new InvalidArgumentError('must be a port, a whole number from 1 to 65535');
  return Number(value);
};

/** Where the deploy files go unless --deploy-dir says otherwise (relative to the working folder). */
export const DEFAULT_DEPLOY_DIR = (context: string) => join('infra', 'deploy', 'extracted', context);

/**
 * `ficus extract <context>`: the strangler fig's first cut (docs/migration-guide.md, step 4). A new
 * deploy target runs the context beside the target that hosts it now, on that target's database,
 * and serves only the calls that `ficus shift` sends it. Writes a topology file and the target's
 * deploy files; nothing under modules/ changes.
 */
export const command: CliCommand = {
  name: 'extract',
  register(program, io) {
    program
      .command('extract')
      .description('start extracting a bounded context: a new deploy target beside its owner, and its deploy files')
      .argument('<context>', 'the bounded context to extract, e.g. inventory')
      .option(
        '--topology <file>',
        'the topology to extract from: a YAML file, or monolith, split, hybrid (default: FICUS_TOPOLOGY, ' +
          'else monolith)',
      )
      .option(
        '--out <file>',
        'where the new topology goes (default: <name>-extracting-<context>.yaml beside the source)',
      )
      .option('--deploy-dir <dir>', 'where the deploy files go (default: infra/deploy/extracted/<context>)')
      .option(
        '--grpc-port <n>',
        "the new target's gRPC port (default: split.yaml's for the context, else a free one)",
        port,
      )
      .option(
        '--http-port <n>',
        "the new target's HTTP port (default: split.yaml's for the context, else a free one)",
        port,
      )
      .option('--image <image>', 'image of the Kubernetes Deployments (default: ficus:<package.json version>)')
      .option('--namespace <name>', 'Kubernetes namespace', DEFAULT_DEPLOY_OPTIONS.namespace)
      .option('--json', 'print the result as JSON')
      .option('--dry-run', 'say what would be written, and write nothing')
      .option('--force', 'overwrite files that exist already')
      .addHelpText(
        'after',
        `
The new target lists the context in its modules with extractedFrom: <owner>; the owner keeps it
too, with its events and its data, until \`ficus retire\`. Until calls are shifted (ficus shift,
ficus shadow) the new target serves nothing. Written:
  - the topology: the source's text with the new target, a gRPC port for the owner if it had
    none, and defaults.grpc.host if missing (comments and order kept);
  - in the deploy folder: kubernetes/ (the owner's and the new target's objects from the deploy
    generator, with the topology ConfigMap and a kustomization) and a compose service fragment.
Refused: an unknown context, one that is its own target already or the last module of its
process, one being extracted already, a port the topology uses.

Examples:
  ficus extract inventory
  ficus extract shipping --topology hybrid --out /tmp/hybrid-shipping.yaml --deploy-dir /tmp/shipping
  ficus extract payments --grpc-port 7154 --http-port 3204 --dry-run --json`,
      )
      .action((context: string, options: ExtractOptions) => runExtract(context, options, io));
  },
};

function runExtract(context: string, options: ExtractOptions, io: CliIo): void {
  const cwd = process.cwd();
  const shown = (path: string) => {
    const rel = relative(cwd, path);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  };
  const named = options.topology ?? given(io.env.FICUS_TOPOLOGY);
  const sourcePath = !named
    ? shippedTopologyPath('monolith')
    : (SHIPPED_TOPOLOGIES as readonly string[]).includes(named)
      ? shippedTopologyPath(named as (typeof SHIPPED_TOPOLOGIES)[number])
      : resolve(cwd, named);
  let text: string;
  try {
    text = readFileSync(sourcePath, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read the topology ${shown(sourcePath)} ` +
        `(${(error as NodeJS.ErrnoException).code ?? String(error)}): give --topology <file|monolith|split|hybrid>`,
    );
  }
  const source = shown(sourcePath);

  let extraction: Extraction;
  let outPath: string;
  try {
    const name = parseTopology(text, source, { env: io.env }).name;
    outPath = options.out
      ? resolve(cwd, options.out)
      : join(dirname(sourcePath), `${extractingName(name, context)}.yaml`);
    extraction = extract({
      text,
      source,
      context,
      choices: { grpcPort: options.grpcPort, httpPort: options.httpPort },
      out: shown(outPath),
      options: deployOptions({ image: options.image ?? shippedImage(), namespace: options.namespace }),
      env: io.env,
      eventLinks: eventLinks(join(PROJECT_ROOT, 'pacts')),
    });
  } catch (error) {
    if (error instanceof ExtractionRefused || error instanceof TopologyError) throw new CliError(error.message);
    if (error instanceof Error && error.message.startsWith('deploy options:')) throw new CliError(error.message, 2);
    throw error;
  }

  const deployDir = resolve(cwd, options.deployDir ?? DEFAULT_DEPLOY_DIR(context));
  const targets = [outPath, ...extraction.files.map((file) => resolve(deployDir, file.path))];
  const existing = targets.filter((path) => existsSync(path));
  if (outPath === sourcePath && !options.force) {
    throw new CliError(
      `--out ${shown(outPath)} is the topology extracted from: give another file, or --force to rewrite it in place`,
    );
  }
  if (existing.length > 0 && !options.force && !options.dryRun) {
    throw new CliError(
      `${existing.map(shown).join(', ')} ${existing.length === 1 ? 'exists' : 'exist'} already: give --out / ` +
        `--deploy-dir elsewhere, or --force to overwrite`,
    );
  }
  if (!options.dryRun) {
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, extraction.text);
    writeGeneratedFiles(deployDir, extraction.files);
  }

  const report = reportOf(
    extraction,
    {
      source,
      out: shown(outPath),
      deployDir: shown(deployDir),
      dryRun: options.dryRun === true,
      shown: (path) => shown(resolve(deployDir, path)),
    },
    options.namespace,
  );
  io.out(options.json ? `${JSON.stringify(report, null, 2)}\n` : textOf(report));
}

/** Who consumes whose events, from the message pacts of pacts/ (none when the folder is missing). */
function eventLinks(dir: string): EventLink[] {
  if (!existsSync(dir)) return [];
  const pacts = readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown);
  return eventLinksOfPacts(pacts);
}

interface Where {
  readonly source: string;
  readonly out: string;
  readonly deployDir: string;
  readonly dryRun: boolean;
  readonly shown: (path: string) => string;
}

type Report = ReturnType<typeof reportOf>;

function reportOf(extraction: Extraction, where: Where, namespace: string) {
  const { plan, topology, resources, next } = extraction;
  const target = topology.target(plan.target);
  const secrets = namesOf(plan.target);
  return {
    context: plan.context,
    dryRun: where.dryRun,
    topology: { source: where.source, written: where.out, name: topology.name },
    target: {
      name: target.name,
      modules: target.modules,
      extractedFrom: plan.owner,
      grpc: { host: target.grpc!.host, port: target.grpc!.port },
      http: { host: target.http.host, port: target.http.port },
      database: { ...target.database, of: plan.owner },
    },
    owner: { name: plan.owner, grpcPort: plan.ownerGrpc.port, grpcPortAdded: plan.ownerGrpc.added },
    deployDir: where.deployDir,
    files: extraction.files.map((file) => ({
      path: where.shown(file.path),
      objects: file.objects.map((object) => `${object.kind}/${object.metadata.name}`),
    })),
    toCreate: resources,
    kubernetes: {
      apply: `kubectl apply -k ${where.shown(KUBERNETES_DIR)}`,
      secrets: [
        {
          name: secrets.grpcTls,
          keys: ['ca.crt', 'tls.crt', 'tls.key'],
          note:
            `${whose(plan.target)} gRPC certificate (SPIFFE ID spiffe://ficus.local/target/${plan.target}, ` +
            `DNS name ${plan.target}), in namespace ${namespace}`,
        },
        {
          name: namesOf(plan.owner).credentials,
          keys: ['DATABASE_URL'],
          note:
            `${whose(plan.owner)}, which ${plan.target} reads too while it works on ${whose(plan.owner)} ` +
            `database: nothing new`,
        },
      ],
    },
    next,
    modulesChanged: false,
  };
}

function textOf(report: Report): string {
  const { target, owner, toCreate } = report;
  const verb = report.dryRun ? 'would write' : 'wrote';
  const lines = [
    `ficus extract ${report.context}: target "${target.name}" beside "${owner.name}" (extractedFrom: ` +
      `${owner.name})${report.dryRun ? ' — dry run, nothing written' : ''}`,
    '',
    `${verb} ${report.topology.written} (topology ${report.topology.name}, from ${report.topology.source})`,
    `  ${target.name}: modules [${target.modules.join(', ')}], gRPC ${target.grpc.host}:${target.grpc.port}, ` +
      `HTTP ${target.http.port}, ${whose(owner.name)} database`,
    `  ${owner.name}: ${owner.grpcPortAdded ? `gRPC port ${owner.grpcPort} added` : `gRPC port ${owner.grpcPort}`}, ` +
      `keeps ${whose(report.context)} events and data until ficus retire`,
    `${verb} ${report.deployDir}/`,
    ...report.files.map((file) => {
      const objects = file.objects.length > 0 ? `  ${file.objects.join(', ')}` : '';
      return `  ${file.path.slice(report.deployDir.length + 1)}${objects}`;
    }),
    "nothing under modules/ changes: where a module runs is the topology's business",
    '',
    `to create now: nothing — ${toCreate.now.why}`,
    `for \`ficus retire ${report.context}\` later:`,
    ...toCreate.atRetire.databases.map((database) => `  database ${database.name}: ${database.note}`),
    ...toCreate.atRetire.topics.map(
      (topic) =>
        `  topic    ${topic.name} (${topic.partitions} partition${topic.partitions === 1 ? '' : 's'}): ${topic.note}`,
    ),
    ...toCreate.atRetire.consumerGroups.map((group) => `  group    ${group.group}, reading ${group.reads.join(', ')}`),
    ...toCreate.atRetire.notes.map((note) => `  (${note})`),
    '',
    'next:',
    ...report.next.flatMap((step, index) => [`  ${index + 1}. ${step.step}`, `     ${step.command}`]),
    '',
    `in Kubernetes: create Secret ${report.kubernetes.secrets[0].name} ` +
      `(${report.kubernetes.secrets[0].keys.join(', ')}), then ${report.kubernetes.apply}`,
    `  (${report.kubernetes.secrets[1].note})`,
  ];
  return `${lines.join('\n')}\n`;
}
