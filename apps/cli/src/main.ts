import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { CliError, processIo, type CliCommand, type CliIo } from './cli-command';

const COMMANDS_DIR = join(__dirname, 'commands');
const COMMAND_FILE = /^[a-z][a-z0-9-]*\.command\.(ts|js)$/;

/**
 * The commands of `ficus`: every `commands/<name>.command.ts`, each exporting `command`. Found on
 * disk rather than listed here, so that a new command is a new file and nothing else.
 */
export function discoverCommands(dir = COMMANDS_DIR): CliCommand[] {
  return readdirSync(dir)
    .filter((file) => COMMAND_FILE.test(file))
    .sort()
    .map((file) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the file name is only known at run time
      const loaded = require(join(dir, file)) as { command?: CliCommand };
      if (typeof loaded.command?.register !== 'function') {
        throw new Error(
          `apps/cli/src/commands/${file} exports no \`command\` (a CliCommand): export const command: ` +
            `CliCommand = { name, register }`,
        );
      }
      return loaded.command;
    });
}

export function buildProgram(io: CliIo = processIo, commands: readonly CliCommand[] = discoverCommands()): Command {
  const program = new Command('ficus')
    .description(
      'ficus: run bounded-context modules as one process or as split services, and move between the two one ' +
        'context at a time',
    )
    .configureOutput({ writeOut: (text) => io.out(text), writeErr: (text) => io.err(text) })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
The migration, one context at a time (docs/migration-guide.md); ficus status says when each
next step is safe:
  1. ficus verify              the modules keep their boundaries
  2. ficus graph               who calls whom and which events flow, with rates
  3. ficus plan                which context to extract first, and why
  4. ficus extract <context>   a new target beside the monolith, and its deploy files
  5. ficus shadow <context> on reads also asked of the new service, answers compared
  6. ficus shift <context> N   N % of calls to the new service (10, 50, 100; 0 rolls back)
  7. ficus retire <context>    the monolith stops hosting it

Each command explains itself: ficus <command> --help, ficus <command> <subcommand> --help.
Run from the repository (npx ficus …); the database and topology options of a command say
which deployment it acts on.`,
    );
  for (const command of commands) {
    command.register(program, io);
  }
  return program;
}

/** Runs `ficus` with `argv` (the user's words, without node and the script); resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has written its message (or the help) already.
      return error.exitCode;
    }
    if (error instanceof CliError) {
      if (error.message) io.err(`ficus: ${error.message}\n`);
      return error.exitCode;
    }
    // What the machine refused (a folder that does not exist, a name that does not resolve, a
    // port in use): said as the system says it, without a stack. Anything else is a bug in the
    // command, and its stack is what a report of it needs.
    if (isSystemError(error)) {
      io.err(`ficus: ${error.message}\n`);
      return 1;
    }
    io.err(`ficus: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

/**
 * An error Node raised for a system call (`ENOENT: no such file or directory, open '…'`). Read by
 * its fields, not by `instanceof`: an error made in another realm (a VM context) is one too.
 */
function isSystemError(error: unknown): error is { message: string } {
  if (typeof error !== 'object' || error === null) return false;
  const { code, syscall, message } = error as { code?: unknown; syscall?: unknown; message?: unknown };
  return (
    typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code) && typeof syscall === 'string' && typeof message === 'string'
  );
}
