import type { Command } from 'commander';
import { ShadowStore } from '@infra/extraction';
import { PostgresFlagStore } from '@infra/flags';
import { loadTopology, type Topology } from '@infra/topology';
import { given } from '@infra/config';
import { CliError, type CliIo } from './cli-command';
import { openDeploymentDatabase, topologyPathOf, type DeploymentSelection } from './deployment-database';

export interface ExtractionOptions extends DeploymentSelection {
  readonly json?: boolean;
}

export const EXTRACTION_STORE_HELP = `
Whose switches: the deployment that owns the context (it keeps the shift and shadow flags and the
shadow results in its database). By default the monolith as \`npm start\` runs it; with
--topology <file> (as \`ficus extract\` wrote it), the target that still hosts the context; or
--database-url for any database.`;

export function withExtractionOptions(command: Command): Command {
  return command
    .option(
      '--topology <file>',
      'the topology with the extraction in progress (as `ficus extract` wrote it; default FICUS_TOPOLOGY)',
    )
    .option('--database-url <url>', "the owner's database (postgres://…), instead of finding it")
    .option('--json', 'print JSON instead of text');
}

/** The topology of a command, when it was given one (--topology or FICUS_TOPOLOGY). */
export function topologyOf(options: ExtractionOptions, env: NodeJS.ProcessEnv): Topology | undefined {
  const path = topologyPathOf(options.topology ?? given(env.FICUS_TOPOLOGY));
  return path ? loadTopology(path, { env }) : undefined;
}

/**
 * Opens the flags and shadow results of the deployment that owns `context`: its owner target's
 * database when a topology is given (and checks the context is being extracted there).
 */
export async function withExtractionStores<T>(
  context: string | undefined,
  options: ExtractionOptions,
  io: CliIo,
  work: (stores: { flags: PostgresFlagStore; shadows: ShadowStore; topology?: Topology }) => Promise<T>,
): Promise<T> {
  const topology = options.databaseUrl ? undefined : topologyOf(options, io.env);
  let target: string | undefined;
  if (topology && context) {
    if (!topology.extractionOf(context)) {
      throw new CliError(
        `${context} is not being extracted in ${topology.source} — run \`ficus extract ${context}\` first and ` +
          `start the target it writes`,
      );
    }
    target = topology.targetOf(context).name;
  }
  const deployment = await openDeploymentDatabase({ ...options, target, topology: topology?.source }, io.env);
  try {
    const flags = await PostgresFlagStore.open(deployment.config);
    const shadows = await ShadowStore.open(deployment.config).catch(async (error: unknown) => {
      await flags.close();
      throw error;
    });
    try {
      return await work({ flags, shadows, topology });
    } finally {
      await shadows.close();
      await flags.close();
    }
  } finally {
    await deployment.close();
  }
}

/** Refuses a context no process of the deployment is extracting (its flags are undeclared). */
export async function requireDeclared(flags: PostgresFlagStore, flag: string, context: string): Promise<void> {
  const declared = (await flags.declarations()).some((d) => d.name === flag);
  if (!declared) {
    throw new CliError(
      `no process of this deployment declares ${flag}: ${context} is not being extracted there yet — run ` +
        `\`ficus extract ${context}\`, then restart the owner with the topology it wrote`,
    );
  }
}
