import type { ChildProcess } from 'node:child_process';
import { startServiceProcess, waitReady, type LaunchedProcess } from '@infra/deploy/local/topology-launcher';
import { withDatabase } from '@infra/persistence';
import { loadTopology } from '@infra/topology';
import { testAdminUrl } from './test-database';

export interface StartedService {
  readonly child: ChildProcess;
  readonly launched: LaunchedProcess;
  readonly exited: Promise<void>;
}

/**
 * Real `ficus-service` processes of one test topology (the launcher's, one at a time, with their
 * own arguments: a second instance, a canary, another topology file), each on the test's
 * PostgreSQL server and Kafka broker. `kill()` ends whatever is left.
 */
export class ServiceProcesses {
  private readonly started: StartedService[] = [];

  constructor(
    private readonly topologyPath: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** `args` may name another `--topology`; the last one given wins. */
  start(target: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): StartedService {
    const topologyPath = args.includes('--topology') ? args[args.lastIndexOf('--topology') + 1] : this.topologyPath;
    const launched = startServiceProcess({
      topologyPath,
      target: loadTopology(topologyPath, { env: { ...process.env, ...this.env, ...env } }).target(target),
      args: args.filter((_, i) => args[i] !== '--topology' && args[i - 1] !== '--topology'),
      env: {
        ...process.env,
        DATABASE_URL: withDatabase(testAdminUrl(), 'postgres'),
        FICUS_DB_ROLE_SECRET: 'ficus-test-role-secret',
        LOG_LEVEL: 'warn',
        LOG_HTTP_REQUESTS: 'false',
        ...this.env,
        ...env,
      },
    });
    const started: StartedService = {
      child: launched.child,
      launched,
      exited: new Promise((r) => launched.child.once('exit', () => r())),
    };
    this.started.push(started);
    return started;
  }

  /** Waits until the process answers /ready (on its operations port) with 200; fails with its output if it exits first. */
  ready(started: StartedService, operationsPort: number): Promise<void> {
    return waitReady(started.launched, operationsPort, 120_000);
  }

  async kill(): Promise<void> {
    for (const started of this.started)
      if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGKILL');
    await Promise.all(this.started.map((p) => p.exited));
  }
}
