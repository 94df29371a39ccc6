import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { given } from '@infra/config';

/**
 * `npm run kafka:start` / `npm run kafka:stop`: a real Apache Kafka broker for development and
 * tests, a single node in KRaft mode on 127.0.0.1, that the project installs and runs itself (no
 * Docker on the development machines; see docs/adr/0012-kafka-3.9-local-broker.md).
 *
 * start: fetches the broker's jars from Maven Central once (pom.xml beside this file), formats
 * its storage once, starts it detached and waits until it answers. Idempotent: a broker that
 * already answers is left alone. With KAFKA_BROKERS set nothing local is started.
 * stop: ends the broker that start left in the pid file.
 *
 * Environment: FICUS_KAFKA_PORT (9092), FICUS_KAFKA_CONTROLLER_PORT (port + 1), FICUS_DATA_DIR
 * (.data, relative to the project root), FICUS_KAFKA_START_TIMEOUT_MS (90 000);
 * FICUS_KAFKA_INSTANCE (kafka): the folder under the data dir for this broker's data, pid and log,
 * so a second broker can run beside the first (the jars stay shared in <data>/kafka/libs);
 * FICUS_KAFKA_ADVERTISED (127.0.0.1:<port>): the host:port clients are told to connect to, when
 * they reach the broker through something in between (the fault suite's proxy).
 */

const host = '127.0.0.1';
const projectRoot = resolve(__dirname, '..', '..', '..');
const pomFile = join(__dirname, 'pom.xml');
const port = portFromEnv('FICUS_KAFKA_PORT', 9092);
const controllerPort = portFromEnv('FICUS_KAFKA_CONTROLLER_PORT', port + 1);
const dataDir = resolve(projectRoot, given(process.env.FICUS_DATA_DIR) ?? '.data');
const instance = given(process.env.FICUS_KAFKA_INSTANCE) ?? 'kafka';
if (!/^[a-z][a-z0-9-]*$/.test(instance)) {
  process.stderr.write(`kafka: FICUS_KAFKA_INSTANCE=${instance} must be lowercase letters, digits and "-"\n`);
  process.exit(1);
}
const kafkaDir = join(dataDir, instance);
const advertised = given(process.env.FICUS_KAFKA_ADVERTISED) ?? `${host}:${port}`;
if (!/^[^\s:,]+:\d{1,5}$/.test(advertised)) {
  process.stderr.write(`kafka: FICUS_KAFKA_ADVERTISED=${advertised} must be host:port\n`);
  process.exit(1);
}
const paths = {
  // Every instance uses the same jars, fetched once.
  libs: join(dataDir, 'kafka', 'libs'),
  libsPartial: join(dataDir, 'kafka', 'libs.partial'),
  data: join(kafkaDir, 'data'),
  serverProperties: join(kafkaDir, 'server.properties'),
  log4jProperties: join(kafkaDir, 'log4j.properties'),
  clusterId: join(kafkaDir, 'cluster-id'),
  pid: join(kafkaDir, 'broker.pid'),
  log: join(kafkaDir, 'broker.log'),
};
const startTimeoutMs = Number(given(process.env.FICUS_KAFKA_START_TIMEOUT_MS) ?? 90_000);
const stopTimeoutMs = 30_000;
// The machine has 2 cores and is shared with the test suite: a small heap is plenty for a
// development broker.
const jvmOptions = ['-Xms128m', '-Xmx512m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true'];

function say(line: string): void {
  process.stdout.write(`kafka: ${line}\n`);
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    process.stderr.write(`kafka: ${name}=${raw} is not a TCP port\n`);
    process.exit(1);
  }
  return value;
}

function kafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pomFile, 'utf8'));
  if (!match) {
    throw new Error(`${pomFile} names no <kafka.version>`);
  }
  return match[1].trim();
}

/** Does a Kafka broker answer on host:port? Asks it for its cluster, with no retries. */
async function brokerAnswers(): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'ficus-kafka-broker-probe',
    brokers: [`${host}:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The pid in the pid file when that process is alive and is a Kafka broker; else undefined. */
function ourBrokerPid(): number | undefined {
  if (!existsSync(paths.pid)) {
    return undefined;
  }
  const pid = Number(readFileSync(paths.pid, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) {
    return undefined;
  }
  // A pid is reused after its process ends: make sure it is still the broker before trusting
  // (or signalling) it. /proc is Linux's; elsewhere the pid is taken at its word.
  const cmdline = `/proc/${pid}/cmdline`;
  if (existsSync(cmdline) && !readFileSync(cmdline, 'utf8').includes('kafka.Kafka')) {
    return undefined;
  }
  return pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function checkJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error) {
    throw new Error(
      'Java 17 or newer is needed to run the local Kafka broker, and `java` was not found on the PATH. ' +
        'Install a JDK or JRE 17+ (Debian: apt-get install openjdk-17-jre-headless), ' +
        'or point KAFKA_BROKERS at a running broker.',
    );
  }
  const output = `${result.stderr}${result.stdout}`;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  // "1.8.0_392" is Java 8: the old scheme puts the feature release second.
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : NaN;
  if (!(major >= 17)) {
    throw new Error(
      `Java 17 or newer is needed to run the local Kafka broker; \`java -version\` says: ` +
        `${output.split('\n')[0] || 'nothing'}. Install a JDK or JRE 17+ and put it first on the PATH, ` +
        'or point KAFKA_BROKERS at a running broker.',
    );
  }
}

function checkMaven(): void {
  const result = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(
      'Apache Maven is needed once, to fetch the Kafka broker jars from Maven Central, and `mvn -v` ' +
        `failed (${result.error?.message ?? `exit ${result.status}`}). Install Maven 3.8+ ` +
        '(Debian: apt-get install maven), or point KAFKA_BROKERS at a running broker.',
    );
  }
}

/** Fetches the broker's jars unless the right version is there already (then it works offline). */
function ensureJars(version: string): void {
  if (existsSync(join(paths.libs, `kafka_2.13-${version}.jar`))) {
    return;
  }
  checkMaven();
  say(`fetching the Apache Kafka ${version} jars from Maven Central into ${shown(paths.libs)} (once)`);
  const started = Date.now();
  // Into a side folder first: an interrupted fetch must not leave a folder that looks complete.
  rmSync(paths.libsPartial, { recursive: true, force: true });
  const result = spawnSync(
    'mvn',
    ['-q', '-B', '-f', pomFile, 'dependency:copy-dependencies', `-DoutputDirectory=${paths.libsPartial}`],
    { encoding: 'utf8', cwd: __dirname },
  );
  if (result.error || result.status !== 0) {
    throw new Error(
      `fetching the Kafka jars failed (mvn ${result.error?.message ?? `exit ${result.status}`}):\n` +
        `${result.stdout}${result.stderr}`.trim(),
    );
  }
  rmSync(paths.libs, { recursive: true, force: true });
  renameSync(paths.libsPartial, paths.libs);
  say(`fetched in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function writeConfiguration(): void {
  const server = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@${host}:${controllerPort}`,
    listeners: `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${advertised}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': paths.data,
    // One node: every replication factor is 1, and an ISR of one is enough.
    'num.partitions': '1',
    'default.replication.factor': '1',
    'min.insync.replicas': '1',
    'offsets.topic.replication.factor': '1',
    // Fifty partitions (the default) spread group coordinators over many brokers; on one node
    // they only add seconds to every start.
    'offsets.topic.num.partitions': '5',
    'transaction.state.log.num.partitions': '5',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    // Topics are declared by the code that owns them, never created by a typo.
    'auto.create.topics.enable': 'false',
    // No 3 s wait before the first rebalance of a group: tests join groups all the time.
    'group.initial.rebalance.delay.ms': '0',
    // Two cores, shared with the test suite.
    'num.network.threads': '2',
    'num.io.threads': '2',
  };
  writeFileSync(
    paths.serverProperties,
    '# Written by infra/deploy/kafka/kafka-broker.ts at every start; edit that file instead.\n' +
      Object.entries(server)
        .map(([key, value]) => `${key}=${value}`)
        .join('\n') +
      '\n',
  );
  // To stdout, which start sends to broker.log; the request log is far too chatty at INFO.
  writeFileSync(
    paths.log4jProperties,
    [
      'log4j.rootLogger=INFO, stdout',
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.kafka.request.logger=WARN',
      'log4j.logger.state.change.logger=WARN',
      '',
    ].join('\n'),
  );
}

function java(mainClass: string, args: string[]): string[] {
  return [
    ...jvmOptions,
    `-Dlog4j.configuration=file:${paths.log4jProperties}`,
    '-cp',
    join(paths.libs, '*'),
    mainClass,
    ...args,
  ];
}

/**
 * A Kafka cluster id is 16 random bytes in URL-safe base64. Like Kafka's own Uuid.randomUuid,
 * skip one that starts with '-': the command line would take it for an option.
 */
function clusterId(): string {
  if (existsSync(paths.clusterId)) {
    return readFileSync(paths.clusterId, 'utf8').trim();
  }
  let id: string;
  do {
    id = randomBytes(16).toString('base64url');
  } while (id.startsWith('-'));
  writeFileSync(paths.clusterId, `${id}\n`);
  return id;
}

function formatStorageOnce(): void {
  if (existsSync(join(paths.data, 'meta.properties'))) {
    return;
  }
  const id = clusterId();
  say(`formatting ${shown(paths.data)} for cluster ${id}`);
  const result = spawnSync(
    'java',
    java('kafka.tools.StorageTool', ['format', '-t', id, '-c', paths.serverProperties, '--ignore-formatted']),
    { encoding: 'utf8' },
  );
  if (result.error || result.status !== 0) {
    throw new Error(
      `formatting the Kafka storage failed (${result.error?.message ?? `exit ${result.status}`}):\n` +
        `${result.stdout}${result.stderr}`.trim(),
    );
  }
}

/** A port held by another program makes the broker die a few seconds later; say so at once. */
async function ensurePortFree(which: number, envName: string): Promise<void> {
  const free = await new Promise<boolean>((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(which, host, () => server.close(() => done(true)));
  });
  if (!free) {
    throw new Error(
      `port ${host}:${which} is taken by another program that is not a Kafka broker; ` +
        `free it or choose another port with ${envName}`,
    );
  }
}

function logTail(lines = 25): string {
  if (!existsSync(paths.log)) {
    return '';
  }
  return readFileSync(paths.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

async function waitUntilReady(pid: number, started: number, running = () => alive(pid)): Promise<void> {
  for (;;) {
    if (await brokerAnswers()) {
      say(`broker ready on ${host}:${port} (pid ${pid}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return;
    }
    if (!running()) {
      rmSync(paths.pid, { force: true });
      throw new Error(`the Kafka broker (pid ${pid}) exited while starting; see ${shown(paths.log)}:\n${logTail()}`);
    }
    if (Date.now() - started > startTimeoutMs) {
      await stopPid(pid);
      throw new Error(
        `the Kafka broker (pid ${pid}) did not answer on ${host}:${port} within ${startTimeoutMs / 1000} s ` +
          `and was stopped; see ${shown(paths.log)}:\n${logTail()}`,
      );
    }
    await new Promise((wake) => setTimeout(wake, 250));
  }
}

async function start(): Promise<void> {
  if (process.env.KAFKA_BROKERS) {
    say(`KAFKA_BROKERS=${process.env.KAFKA_BROKERS} is set: that broker is used, none is started here`);
    return;
  }
  const running = ourBrokerPid();
  if (await brokerAnswers()) {
    say(
      running
        ? `the local broker already runs on ${host}:${port} (pid ${running})`
        : `a Kafka broker already answers on ${host}:${port} (not started by kafka:start); it is used as it is`,
    );
    return;
  }
  if (running) {
    say(`the local broker (pid ${running}) is still starting; waiting for it`);
    await waitUntilReady(running, Date.now());
    return;
  }
  rmSync(paths.pid, { force: true });

  const started = Date.now();
  const version = kafkaVersion();
  checkJava();
  mkdirSync(kafkaDir, { recursive: true });
  mkdirSync(join(dataDir, 'kafka'), { recursive: true });
  ensureJars(version);
  await ensurePortFree(port, 'FICUS_KAFKA_PORT');
  await ensurePortFree(controllerPort, 'FICUS_KAFKA_CONTROLLER_PORT');
  writeConfiguration();
  formatStorageOnce();

  const log = openSync(paths.log, 'w');
  const broker = spawn('java', java('kafka.Kafka', [paths.serverProperties]), {
    cwd: kafkaDir,
    // Its own process group, so that the terminal's Ctrl-C or the end of this script leaves it be.
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let exited = false;
  broker.once('exit', () => (exited = true));
  broker.once('error', () => (exited = true));
  const pid = broker.pid;
  if (pid === undefined) {
    throw new Error('`java` could not be started');
  }
  broker.unref();
  writeFileSync(paths.pid, `${pid}\n`);
  say(`started Apache Kafka ${version} (pid ${pid}, log ${shown(paths.log)}); waiting until it answers`);
  await waitUntilReady(pid, started, () => !exited);
}

/** SIGTERM (a controlled shutdown), then SIGKILL when it takes longer than stopTimeoutMs. */
async function stopPid(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + stopTimeoutMs;
  while (alive(pid) && Date.now() < deadline) {
    await new Promise((wake) => setTimeout(wake, 100));
  }
  if (alive(pid)) {
    say(`pid ${pid} did not stop within ${stopTimeoutMs / 1000} s: killing it`);
    process.kill(pid, 'SIGKILL');
  }
  rmSync(paths.pid, { force: true });
}

async function stop(): Promise<void> {
  const pid = ourBrokerPid();
  if (pid === undefined) {
    rmSync(paths.pid, { force: true });
    say('no local Kafka broker runs');
    return;
  }
  const started = Date.now();
  await stopPid(pid);
  say(`stopped the local broker (pid ${pid}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'start':
      return start();
    case 'stop':
      return stop();
    default:
      throw new Error('usage: kafka-broker.ts start|stop');
  }
}

main(process.argv[2]).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`kafka: ${message}\n`);
  process.exit(1);
});
