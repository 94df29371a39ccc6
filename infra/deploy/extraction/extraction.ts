import {
  composeServiceText,
  databasePrefixOf,
  type DeployOptions,
  type GeneratedFile,
  kubernetesFiles,
} from '@infra/deploy/generator';
import { parseTopology, TopologyError, type Environment, type Topology } from '@infra/topology';
import { given } from '@infra/config';
import { planExtraction, whose, type ExtractionChoices, type ExtractionPlan } from './extraction-plan';
import { extractionResources, type EventLink, type ExtractionResources } from './extraction-resources';
import { defaultGrpcHostOf, extractionTopologyText } from './extraction-topology-text';

/**
 * `ficus extract <context>` without the disk: from a topology's text, the new topology's text, the
 * deploy files of the new target (and of its owner, whose topology changes too) from the one
 * generator, what to create, and the next steps. The command reads and writes; this decides.
 */
export interface ExtractionInput {
  /** The topology's text, and its path as messages and generated files should name it. */
  readonly text: string;
  readonly source: string;
  readonly context: string;
  readonly choices?: ExtractionChoices;
  /** Where the new topology goes, as the next steps should name it. */
  readonly out: string;
  readonly options: DeployOptions;
  /** The environment the topology is read with (the user's), for `${VAR}`s and the next steps. */
  readonly env: Environment;
  readonly eventLinks: readonly EventLink[];
}

export interface Extraction {
  readonly plan: ExtractionPlan;
  /** The new topology file's text. */
  readonly text: string;
  readonly topology: Topology;
  /** Relative to the deploy folder: `kubernetes/…` and the compose fragment. */
  readonly files: readonly GeneratedFile[];
  readonly resources: ExtractionResources;
  readonly next: readonly NextStep[];
}

export interface NextStep {
  readonly step: string;
  readonly command: string;
}

export const KUBERNETES_DIR = 'kubernetes';
export const composeFragmentOf = (target: string) => `compose-${target}.fragment.yml`;

export function extract(input: ExtractionInput): Extraction {
  const { text: sourceText, source, context, out, options, env } = input;
  const original = parseTopology(sourceText, source, { env });
  const plan = planExtraction(original, context, input.choices, defaultGrpcHostOf(sourceText));
  const text = extractionTopologyText(sourceText, plan);

  // The file must load as every process will load it; anything else is a bug here, said as one.
  let topology: Topology;
  let forDeploy: Topology;
  try {
    topology = parseTopology(text, out, { env });
    forDeploy = parseTopology(text, out, { env: {} });
  } catch (error) {
    if (!(error instanceof TopologyError)) throw error;
    throw new Error(
      `ficus extract wrote a topology that does not load — a bug, please report it with the source ` +
        `topology:\n${error.message}\n--- written:\n${text}`,
    );
  }

  // One generator: the Kubernetes files of the owner and of the new target, which both read the
  // new topology (the owner gains a gRPC port, or at least learns where the new target listens).
  const generation = { topology: forDeploy, source: out, text, options, targets: [plan.owner, plan.target] };
  const files: GeneratedFile[] = [
    ...kubernetesFiles(generation).map((file) => ({ ...file, path: `${KUBERNETES_DIR}/${file.path}` })),
    {
      path: composeFragmentOf(plan.target),
      content: composeServiceText(forDeploy.target(plan.target), out),
      objects: [],
    },
  ];

  const resources = extractionResources(topology, plan, {
    kafkaNamespace: given(env.FICUS_KAFKA_NAMESPACE) ?? 'ficus',
    databasePrefix: given(env.FICUS_DATABASE_PREFIX) ?? databasePrefixOf(topology),
    eventLinks: input.eventLinks,
  });
  return { plan, text, topology, files, resources, next: nextSteps(plan, out, env) };
}

const SERVICE = 'node -r @swc-node/register apps/service/src/main.ts';

function nextSteps(plan: ExtractionPlan, out: string, env: Environment): NextStep[] {
  const { context, owner, target } = plan;
  const topology = shellWord(out);
  // The owner's database through the owner's DATABASE_URL: the variable, never its value (a password).
  const database = env.DATABASE_URL ? 'DATABASE_URL="$DATABASE_URL" ' : '';
  const sameDatabase = env.DATABASE_URL
    ? `with ${whose(owner)} DATABASE_URL (and FICUS_DB_ROLE_SECRET, if ${owner} has one): it works on ` +
      `${whose(owner)} database`
    : `without DATABASE_URL both use the embedded PostgreSQL under .data/, ${whose(owner)} database; otherwise ` +
      `give both the same DATABASE_URL (and FICUS_DB_ROLE_SECRET)`;
  return [
    {
      step:
        `restart ${owner} on the new topology (it ` +
        `${plan.ownerGrpc.added ? `gains gRPC port ${plan.ownerGrpc.port} and ` : ''}learns where ${target} listens)`,
      command: `${database}${SERVICE} --target ${owner} --topology ${topology}`,
    },
    {
      step: `start ${target} (${sameDatabase})`,
      command: `${database}${SERVICE} --target ${target} --topology ${topology}`,
    },
    {
      step: `compare ${whose(target)} answers with ${whose(owner)} on live calls, without using them`,
      command: `ficus shadow ${context} on`,
    },
    {
      step: `then shift a share of ${whose(context)} calls to ${target}: 10, 50, 100 %`,
      command: `ficus shift ${context} 10`,
    },
    {
      step: `when ${target} serves every call, move ${whose(context)} events and data to it`,
      command: `ficus retire ${context}`,
    },
  ];
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
