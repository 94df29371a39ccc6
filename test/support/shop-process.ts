import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { freeLoopbackPorts } from '@infra/deploy/local/tcp-port';
import type { DatabaseConfig } from '@infra/persistence';
import { withDatabase } from '@infra/persistence';
import { eventually } from './eventually';

export interface ShopProcess {
  readonly baseUrl: string;
  /** Its operations port: /health, /ready and /metrics. */
  readonly operationsUrl: string;
  readonly child: ChildProcess;
  output(): string;
  /** SIGKILL: no shutdown hook runs, exactly like a crash. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** `npm start` as a real child process, on the given test database, the way a user runs it. */
export async function startShopProcess(
  database: DatabaseConfig,
  env: Record<string, string> = {},
): Promise<ShopProcess> {
  const [port, operationsPort] = await freeLoopbackPorts(2);
  const root = resolve(__dirname, '../..');
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/monolith/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      FICUS_OPERATIONS_PORT: String(operationsPort),
      DATABASE_URL: withDatabase(database.adminUrl, database.database),
      FICUS_DB_ROLE_SECRET: database.roleSecret,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const operationsUrl = `http://127.0.0.1:${operationsPort}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`the shop exited with ${child.exitCode}:\n${output}`);
      const answer = await fetch(`${operationsUrl}/ready`);
      if (answer.status !== 200) throw new Error(`not ready: ${answer.status}`);
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'shop process ready' },
  );
  return {
    baseUrl,
    operationsUrl,
    child,
    output: () => output,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
