import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BOUNDED_CONTEXTS } from '@contracts/kernel';
import { launchTopology, type LaunchedTopology } from '@infra/deploy/local/topology-launcher';
import { dropDatabase } from '@infra/persistence';
import { FaultProxy } from '../../support/fault-proxy';
import { asAdmin, testAdminUrl } from '../../support/test-database';

const ROOT = resolve(__dirname, '../../..');

/**
 * Fixed ports of the fault suite, apart from split.yaml's so that `npm run start:split` may run
 * beside it: services listen on 715x and are reached through proxies on 725x; HTTP on 32xx; a
 * broker of the suite's own on 9392, reached through a proxy on 9492 (the port it advertises,
 * so that every Kafka connection, not only the first, passes the proxy).
 */
const SERVICES = BOUNDED_CONTEXTS.map((context, index) => ({
  context,
  listenPort: 7150 + index,
  proxyPort: 7250 + index,
  httpPort: 3201 + index,
}));
const GATEWAY_HTTP_PORT = 3200;
const BROKER = { port: 9392, controllerPort: 9393, advertisedPort: 9492 };

export type ServiceName = (typeof BOUNDED_CONTEXTS)[number];

/** The split shop with a fault proxy on every wire: each service's gRPC, Kafka, PostgreSQL. */
export interface FaultySplit {
  readonly baseUrl: string;
  readonly launched: LaunchedTopology;
  readonly grpc: Readonly<Record<ServiceName, FaultProxy>>;
  readonly kafka: FaultProxy;
  readonly postgres: FaultProxy;
  readonly broker: { stop(): Promise<void>; start(): Promise<void> };
  readonly namespace: string;
  /** SQL as superuser, straight to PostgreSQL (not through the proxy), in `context`'s database. */
  query<T = Record<string, unknown>>(context: ServiceName, sql: string, params?: unknown[]): Promise<T[]>;
  /** Metrics scraped from one process's /metrics. */
  scrape(target: ServiceName | 'gateway'): Promise<string>;
  /** The last `lines` lines each process wrote (warnings and errors: the suite logs at warn). */
  outputTails(lines: number): Record<string, string>;
  close(): Promise<void>;
}

function topologyYaml(): string {
  const targets = SERVICES.map(
    (s) => `
  ${s.context}:
    modules: [${s.context}]
    grpc: { port: ${s.proxyPort}, listenPort: ${s.listenPort} }
    http: { port: ${s.httpPort} }
    database: { name: "\${FICUS_DATABASE_PREFIX}_${s.context}" }${
      s.context === 'shipping' ? '\n    resilience: { bulkhead: { maxConcurrent: 4, maxQueued: 4 } }' : ''
    }`,
  ).join('');
  // Written by the fault suite (test/faults): split.yaml with proxies on every wire. The breaker
  // stays open 5 s instead of 30 s, and shipping's bulkhead is small, so that the scenarios that
  // trip them finish in seconds; everything else is as shipped.
  return `name: faulty-split
defaults:
  grpc: { host: 127.0.0.1, deadlineMs: 5000 }
  kafka: { brokers: "\${KAFKA_BROKERS}", partitions: 3 }
  resilience:
    retries: 2
    backoff: { initialMs: 50, maxMs: 1000 }
    bulkhead: { maxConcurrent: 64, maxQueued: 256 }
    breaker: { failuresToOpen: 5, openForMs: 5000, successesToClose: 2 }
contexts:
  payments:
    resilience:
      methods:
        getPayment: { retries: 1, timeoutMs: 1000 }
targets:
  gateway:
    edge: true
    http: { port: ${GATEWAY_HTTP_PORT} }
${targets}
`;
}

/**
 * Runs the project's broker script for the suite's own broker. Asynchronously: the broker is
 * probed through the Kafka proxy, which lives in this process and must keep serving meanwhile.
 */
async function brokerCommand(command: 'start' | 'stop'): Promise<void> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FICUS_KAFKA_INSTANCE: 'kafka-faults',
    FICUS_KAFKA_PORT: String(BROKER.port),
    FICUS_KAFKA_CONTROLLER_PORT: String(BROKER.controllerPort),
    FICUS_KAFKA_ADVERTISED: `127.0.0.1:${BROKER.advertisedPort}`,
  };
  delete env.KAFKA_BROKERS;
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'infra/deploy/kafka/kafka-broker.ts', command], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`kafka-broker ${command} failed:\n${output}`);
}

export async function startFaultySplit(env: NodeJS.ProcessEnv = {}): Promise<FaultySplit> {
  // Whatever started before a failure is undone, so that a failed start holds no port.
  const undo: Array<() => Promise<unknown>> = [];
  const undoAll = async () => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  };
  try {
    const admin = new URL(testAdminUrl());
    const postgres = await FaultProxy.start({ host: admin.hostname, port: Number(admin.port) });
    undo.push(() => postgres.close());
    const kafka = await FaultProxy.start({ host: '127.0.0.1', port: BROKER.port }, BROKER.advertisedPort);
    undo.push(() => kafka.close());
    const grpc = {} as Record<ServiceName, FaultProxy>;
    for (const s of SERVICES) {
      grpc[s.context] = await FaultProxy.start({ host: '127.0.0.1', port: s.listenPort }, s.proxyPort);
      undo.push(() => grpc[s.context].close());
    }

    // A broker of its own, fresh each run: the suite stops it, and nothing else may depend on it.
    rmSync(join(ROOT, '.data', 'kafka-faults'), { recursive: true, force: true });
    undo.push(() => brokerCommand('stop'));
    await brokerCommand('start');

    const directory = mkdtempSync(join(tmpdir(), 'ficus-faults-'));
    undo.push(async () => rmSync(directory, { recursive: true, force: true }));
    const topologyPath = join(directory, 'faulty-split.yaml');
    writeFileSync(topologyPath, topologyYaml());
    const prefix = `f${randomBytes(4).toString('hex')}`;
    undo.push(async () => {
      for (const s of SERVICES) await dropDatabase(testAdminUrl(), `${prefix}_${s.context}`);
    });
    const throughProxy = new URL(admin);
    throughProxy.port = String(postgres.port);
    throughProxy.searchParams.delete('host'); // the proxy is on the TCP path, not the server's Unix socket
    throughProxy.pathname = '/postgres';
    const launched = await launchTopology({
      topologyPath,
      env: {
        ...process.env,
        DATABASE_URL: throughProxy.toString(),
        FICUS_DB_ROLE_SECRET: 'ficus-faults-role-secret',
        FICUS_DATABASE_PREFIX: prefix,
        FICUS_KAFKA_NAMESPACE: prefix,
        KAFKA_BROKERS: `127.0.0.1:${BROKER.advertisedPort}`,
        LOG_LEVEL: 'warn',
        LOG_HTTP_REQUESTS: 'false',
        // Plain text through the fault proxies (which cut and delay bytes, not TLS records).
        FICUS_GRPC_PLAINTEXT: 'loopback',
        // The scenarios send bursts on purpose; the gateway's own shedding is not what they test.
        FICUS_HTTP_MAX_CONCURRENT: '256',
        FICUS_HTTP_MAX_QUEUED: '1024',
        ...env,
      },
    });
    undo.push(() => launched.stop());
    const proxies = [postgres, kafka, ...Object.values(grpc)];

    return {
      baseUrl: launched.edgeUrl,
      launched,
      grpc,
      kafka,
      postgres,
      namespace: prefix,
      broker: { stop: () => brokerCommand('stop'), start: () => brokerCommand('start') },
      query: (context, sql, params = []) =>
        asAdmin({ adminUrl: testAdminUrl(), database: `${prefix}_${context}` }, sql, params),
      scrape: async (target) => {
        const port =
          target === 'gateway'
            ? launched.topology.edgeTarget().operations.port
            : SERVICES.find((s) => s.context === target)!.httpPort;
        return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      },
      outputTails: (lines) =>
        Object.fromEntries(
          [...launched.processes].map(([target, process]) => [
            target,
            process.output
              .split('\n')
              .slice(-lines - 1)
              .join('\n'),
          ]),
        ),
      close: async () => {
        proxies.forEach((proxy) => proxy.heal());
        await undoAll();
      },
    };
  } catch (error) {
    await undoAll();
    throw error;
  }
}
