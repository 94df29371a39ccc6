import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { loadTopology, type DeployTarget, type Topology } from '@infra/topology';

const ROOT = resolve(__dirname, '../../..');

export interface LaunchOptions {
  readonly topologyPath: string;
  /** Environment of every process (DATABASE_URL, KAFKA_BROKERS, FICUS_DATABASE_PREFIX, ...). */
  readonly env: NodeJS.ProcessEnv;
  readonly readyTimeoutMs?: number;
  /** Where each process's output goes; defaults to collecting it in memory. */
  readonly onOutput?: (target: string, chunk: string) => void;
  /** Each process as it is started (a restart too). */
  readonly onSpawn?: (child: ChildProcess) => void;
}

export interface LaunchedProcess {
  readonly target: DeployTarget;
  child: ChildProcess;
  output: string;
}

export interface LaunchedTopology {
  readonly topology: Topology;
  readonly processes: ReadonlyMap<string, LaunchedProcess>;
  readonly edgeUrl: string;
  /** Where a target answers /health, /ready and /metrics: the edge's operations port, any other's HTTP port. */
  operationsUrlOf(target: string): string;
  /** SIGKILL one process, like a crash; `restart` brings it back. */
  kill(target: string): Promise<void>;
  /** Starts a target again (after kill or stop), with `env` added to the launch environment. */
  restart(target: string, env?: NodeJS.ProcessEnv): Promise<void>;
  /** Stops one target the way an orchestrator does: SIGTERM, then SIGKILL after a grace period. */
  stopTarget(target: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts every target of a topology as its own process (services first, the edge last), each
 * `apps/service` with its target name, and waits until each answers /ready. The same launcher
 * serves `npm run start:split` and the tests that run the shop split.
 */
export async function launchTopology(options: LaunchOptions): Promise<LaunchedTopology> {
  const topology = loadTopology(options.topologyPath, { env: options.env });
  const processes = new Map<string, LaunchedProcess>();
  const ordered = [...topology.targets].sort((a, b) => Number(a.edge) - Number(b.edge));

  const spawnTarget = async (target: DeployTarget, extraEnv: NodeJS.ProcessEnv = {}): Promise<void> => {
    const launched = startServiceProcess({
      topologyPath: options.topologyPath,
      target,
      env: { ...options.env, ...extraEnv },
      onOutput: options.onOutput,
    });
    processes.set(target.name, launched);
    options.onSpawn?.(launched.child);
    await waitReady(launched, target.operations.port, options.readyTimeoutMs ?? 90_000);
  };

  try {
    // Services may start side by side; the edge needs them (its first calls fetch identity's keys).
    await Promise.all(ordered.filter((t) => !t.edge).map((t) => spawnTarget(t)));
    await Promise.all(ordered.filter((t) => t.edge).map((t) => spawnTarget(t)));
  } catch (error) {
    await Promise.all([...processes.values()].map((p) => stopProcess(p.child, 'SIGKILL')));
    throw error;
  }

  const edge = topology.edgeTarget();
  return {
    topology,
    processes,
    edgeUrl: `http://127.0.0.1:${edge.http.port}`,
    operationsUrlOf: (name) => `http://127.0.0.1:${topology.target(name).operations.port}`,
    kill: async (name) => stopProcess(processes.get(name)!.child, 'SIGKILL'),
    restart: async (name, env) => spawnTarget(topology.target(name), env),
    stopTarget: async (name) => stopProcess(processes.get(name)!.child, 'SIGTERM'),
    stop: async () => {
      await Promise.all(ordered.filter((t) => t.edge).map((t) => stopProcess(processes.get(t.name)!.child, 'SIGTERM')));
      await Promise.all(
        ordered.filter((t) => !t.edge).map((t) => stopProcess(processes.get(t.name)!.child, 'SIGTERM')),
      );
    },
  };
}

/**
 * One `apps/service` process of a topology's target, its output collected (the last 200 kB) and
 * passed on. `args` adds to its command line (`--instance`, `--canary`).
 */
export function startServiceProcess(options: {
  readonly topologyPath: string;
  readonly target: DeployTarget;
  readonly env: NodeJS.ProcessEnv;
  readonly args?: readonly string[];
  readonly onOutput?: (target: string, chunk: string) => void;
}): LaunchedProcess {
  const { target } = options;
  const child = spawn(
    process.execPath,
    [
      '-r',
      '@swc-node/register',
      'apps/service/src/main.ts',
      '--target',
      target.name,
      '--topology',
      options.topologyPath,
      ...(options.args ?? []),
    ],
    { cwd: ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const launched: LaunchedProcess = { target, child, output: '' };
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    launched.output = (launched.output + text).slice(-200_000);
    options.onOutput?.(target.name, text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return launched;
}

/** Waits until the process answers /ready on its operations port with 200; fails with its output if it exits first. */
export async function waitReady(launched: LaunchedProcess, operationsPort: number, timeoutMs: number): Promise<void> {
  const url = `http://127.0.0.1:${operationsPort}/ready`;
  const { target } = launched;
  const started = Date.now();
  for (;;) {
    if (launched.child.exitCode !== null) {
      throw new Error(
        `${target.name} exited with ${launched.child.exitCode} before it was ready:\n${launched.output.slice(-4_000)}`,
      );
    }
    try {
      const answer = await fetch(url);
      if (answer.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `${target.name} was not ready at ${url} within ${timeoutMs} ms:\n${launched.output.slice(-4_000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
