import type { Command } from 'commander';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { IdentityContract, type IdentityApi } from '@contracts/identity';
import { isContractError, type CallContext } from '@contracts/kernel';
import { IdentityModule } from '@modules/identity';
import { ContractBus } from '@infra/messaging';
import type { DatabaseConfig } from '@infra/persistence';
import { Configuration } from '@infra/config';
import { FicusModule, settingsOf } from '@infra/runtime';
import { loadTopology } from '@infra/topology';
import { CliError, type CliCommand, type CliIo } from '../cli-command';
import {
  openDeploymentDatabase,
  topologyPathOf,
  withDeploymentOptions,
  type DeploymentSelection,
} from '../deployment-database';
import { actor } from './flags.command';

interface AdminsOptions extends DeploymentSelection {
  readonly by?: string;
  readonly json?: boolean;
}

const WHERE_HELP = `
Which deployment: by default the monolith as \`npm start\` runs it (DATABASE_URL, or the embedded
PostgreSQL under .data/). Otherwise --topology <file|monolith|split|hybrid> (the target that hosts
identity is found in it; --target names another) or --database-url for identity's database.
The command runs identity's own code against that database and calls its contract as the
operator (FICUS_ACTOR, else user@host, or --by): whoever can reach identity's database is one.`;

function withOptions(command: Command): Command {
  return withDeploymentOptions(command, {
    databaseUrl: "identity's database (postgres://…), instead of finding it",
    target: 'the deploy target that hosts identity (default: found in the topology)',
  });
}

/**
 * `ficus admins grant | revoke | list`: who holds the admin role. Registration never makes an
 * admin (issue 15); an operator makes the first one here (the bootstrap), and every change goes
 * through identity's contract and is recorded in identity.role_changes with who asked.
 */
export const command: CliCommand = {
  name: 'admins',
  register(program, io) {
    const admins = program
      .command('admins')
      .description('grant, revoke and list the admin role of accounts (audited)')
      .addHelpText(
        'after',
        `
An account is an admin only because an operator (here) or another admin said so: registering with
any address never makes one. The first admin of a new shop is made here, once: register the
account (POST /identity/register), confirm its address from the mailed link, then
\`ficus admins grant <email>\` (an account that has not confirmed its address is refused).
${WHERE_HELP}

Examples:
  ficus admins grant ops@example.com
  ficus admins list --topology split
  ficus admins revoke former@example.com --by "ana (ticket OPS-12)"`,
      );

    withOptions(admins.command('grant'))
      .description('give the account with this email the admin role')
      .argument('<email>', "the account's email (registered and confirmed)")
      .option('--by <who>', 'who makes the change, for the audit (default: FICUS_ACTOR, else user@host)')
      .action((email: string, options: AdminsOptions) =>
        withIdentity(options, io, async (identity, ctx) => {
          const before = await identity.listAdmins(ctx, {});
          const change = await identity.grantAdmin(ctx, { email });
          if (options.json) return io.out(`${JSON.stringify(change)}\n`);
          if (!change.changed) return io.out(`${change.email} is an admin already\n`);
          const bootstrap = before.items.length === 0 ? ' (the first admin of this shop: the bootstrap is done)' : '';
          io.out(`${change.email} is now an admin${bootstrap}; it takes effect at the account's next sign-in\n`);
        }),
      );

    withOptions(admins.command('revoke'))
      .description('take the admin role from the account with this email (never from the last admin)')
      .argument('<email>', "the account's email")
      .option('--by <who>', 'who makes the change, for the audit (default: FICUS_ACTOR, else user@host)')
      .action((email: string, options: AdminsOptions) =>
        withIdentity(options, io, async (identity, ctx) => {
          const change = await identity.revokeAdmin(ctx, { email });
          if (options.json) return io.out(`${JSON.stringify(change)}\n`);
          io.out(
            change.changed
              ? `${change.email} is no longer an admin; access tokens it holds keep the role until they expire ` +
                  `(15 minutes at most)\n`
              : `${change.email} was not an admin\n`,
          );
        }),
      );

    withOptions(admins.command('list'))
      .description('list the accounts that hold the admin role')
      .action((options: AdminsOptions) =>
        withIdentity(options, io, async (identity, ctx) => {
          const { items } = await identity.listAdmins(ctx, {});
          if (options.json) return io.out(`${JSON.stringify(items)}\n`);
          io.out(
            items.length === 0
              ? 'no admin yet: make the first with `ficus admins grant <email>`\n'
              : items.map((a) => `${a.email}  ${a.customerId}\n`).join(''),
          );
        }),
      );
  },
};

/** Identity alone, on the deployment's database, for the length of one command; its contract called as the operator. */
async function withIdentity(
  options: AdminsOptions,
  io: CliIo,
  work: (identity: IdentityApi, ctx: CallContext) => Promise<void>,
): Promise<void> {
  const deployment = await openDeploymentDatabase(
    { ...options, target: options.target ?? identityTarget(options, io.env) },
    io.env,
  );
  try {
    const app = await NestFactory.createApplicationContext(IdentityAlone.on(deployment.config), {
      logger: ['error'],
      abortOnError: false,
    }).catch((error: unknown) => {
      throw new CliError(
        `cannot start identity on ${deployment.where}: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    try {
      const identity = app.get(ContractBus).client(IdentityContract, 'operator');
      const ctx: CallContext = {
        correlationId: `ficus-admins-${Date.now()}`,
        deadline: Date.now() + 30_000,
        caller: { subject: `operator:${options.by ?? actor(io.env)}`, roles: ['admin'] },
      };
      await work(identity, ctx).catch((error: unknown) => {
        throw isContractError(error) ? new CliError(error.message) : error;
      });
    } finally {
      await app.close();
    }
  } finally {
    await deployment.close();
  }
}

/** With a topology and no --target: the target that hosts identity. */
function identityTarget(options: AdminsOptions, env: NodeJS.ProcessEnv): string | undefined {
  const path = topologyPathOf(options.topology ?? env.FICUS_TOPOLOGY);
  if (!path || options.databaseUrl) return undefined;
  try {
    return loadTopology(path, { env }).targetOf('identity').name;
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
}

@Module({})
class IdentityAlone {
  static on(database: DatabaseConfig): DynamicModule {
    return {
      module: IdentityAlone,
      imports: [
        CqrsModule.forRoot(),
        FicusModule.forRoot({ database, configuration: Configuration.read(process.env, settingsOf(['identity'])) }),
        IdentityModule,
      ],
    };
  }
}
