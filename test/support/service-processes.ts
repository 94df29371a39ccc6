import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { withDatabase } from '@infra/persistence';
import { eventually } from './eventually';
import { testAdminUrl } from './test-database';

const ROOT = resolve(__dirname, '../..');

export interface StartedService {
  readonly child: ChildProcess;
  output: string;
  readonly exited: Promise<void>;
}

/**
 * Real `ficus-service` processes of one test topology, each a child process on the test's
 * PostgreSQL server and Kafka broker, under a prefix of its own. `kill()` ends whatever is left.
 */
export class ServiceProcesses {
  private readonly started: StartedService[] = [];

  constructor(
    private readonly topologyPath: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  start(target: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): StartedService {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/service/src/main.ts', '--target', target, '--topology', this.topologyPath, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: withDatabase(testAdminUrl(), 'postgres'),
        FICUS_DB_ROLE_SECRET: 'ficus-test-role-secret',
        LOG_LEVEL: 'warn',
        LOG_HTTP_REQUESTS: 'false',
        ...this.env,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started: StartedService = { child, output: '', exited: new Promise((r) => child.once('exit', () => r())) };
    const collect = (chunk: Buffer) => (started.output = (started.output + chunk.toString()).slice(-50_000));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.started.push(started);
    return started;
  }

  /** Waits until the process answers /ready with 200; fails with its output if it exits first. */
  async ready(started: StartedService, httpPort: number): Promise<void> {
    await eventually(
      async () => {
        if (started.child.exitCode !== null) throw new Error(`exited with ${started.child.exitCode}:\n${started.output.slice(-4_000)}`);
        const answer = await fetch(`http://127.0.0.1:${httpPort}/ready`);
        if (answer.status !== 200) throw new Error(`not ready: ${answer.status} ${await answer.text()}`);
      },
      { timeoutMs: 120_000, intervalMs: 250, what: `ready on ${httpPort}` },
    );
  }

  async kill(): Promise<void> {
    for (const started of this.started) if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGKILL');
    await Promise.all(this.started.map((p) => p.exited));
  }
}
