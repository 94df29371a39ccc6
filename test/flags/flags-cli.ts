import { run } from '../../apps/cli/src/main';
import type { CliIo } from '../../apps/cli/src/cli-command';

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `ficus …` in this process, as the bin would, capturing what it prints. */
export async function ficus(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (text) => void (out += text), err: (text) => void (err += text), env };
  const code = await run(argv, io);
  return { code, out, err };
}
