import type { Command } from 'commander';

/** Where a command writes, and the environment it reads: the process's, or a test's. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * One top-level command of `ficus` (`ficus flags …`, `ficus contracts …`). Each lives in
 * `apps/cli/src/commands/<name>.command.ts` and exports it as `command`; main.ts finds the files
 * and lets each register itself, so adding a command touches no shared file.
 */
export interface CliCommand {
  /** The word after `ficus`. */
  readonly name: string;
  /** Adds the command (and its subcommands) to the program. Create them with `program.command()`. */
  register(program: Command, io: CliIo): void;
}

/** A failure to report to the user as it is (no stack), with the exit code the command ends with. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
};
