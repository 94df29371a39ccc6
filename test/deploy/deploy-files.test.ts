import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BUILD_OUTPUT_DIR, copyRuntimeFiles, RUNTIME_FILES } from '@infra/deploy/docker/build-output';
import { loadTopology, shippedTopologyPath, type Environment, type Topology } from '@infra/topology';
import { MailSettings } from '../../modules/notifications/src/application/mail.settings';

/**
 * The deployment files are checked as files: no Docker engine runs on the development machines
 * (docs/adr/0013-one-image-for-every-process.md). Each assertion names the edit that breaks it.
 */

const ROOT = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition?: string }>;
  ports?: string[];
  expose?: string[];
  healthcheck?: { test?: string[] };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

// Compose resolves `<<: *anchor` merge keys (YAML 1.1); so must the parser here.
const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const split = loadTopology(shippedTopologyPath('split'), { env: {} });
/** The ficus processes of the compose file: the services built from the Dockerfile. */
const ficusServices = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);

function service(name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/** `${NAME:-default}` as compose reads it from an empty shell environment. */
function withDefaults(value: string | number): string {
  return String(value).replace(/\$\{\w+:-([^}]*)\}/g, '$1');
}

function environmentOf(name: string): Environment {
  return Object.fromEntries(
    Object.entries(service(name).environment ?? {}).map(([key, value]) => [key, withDefaults(value)]),
  );
}

/** The port that a service's health check asks (`http://127.0.0.1:<port>/ready`). */
function healthPortOf(name: string): number {
  const test = (service(name).healthcheck?.test ?? []).join(' ');
  const match = /http:\/\/127\.0\.0\.1:(\d+)\/ready/.exec(test);
  if (!match) throw new Error(`the health check of "${name}" asks no http://127.0.0.1:<port>/ready: ${test}`);
  return Number(match[1]);
}

/** The topology file a service runs, read from the source tree (its path in the image is under /app/dist). */
function topologyOf(name: string): Topology {
  const inImage = String(environmentOf(name).FICUS_TOPOLOGY ?? '');
  const prefix = `${WORKDIR}/${BUILD_OUTPUT_DIR}/`;
  if (!inImage.startsWith(prefix)) throw new Error(`FICUS_TOPOLOGY of "${name}" is not under ${prefix}: "${inImage}"`);
  return loadTopology(join(ROOT, inImage.slice(prefix.length)), { env: environmentOf(name) });
}

/** A topology's targets with their addresses' hosts left out: what must not differ between files. */
function withoutHosts(topology: Topology): unknown[] {
  return topology.targets.map((t) => ({
    ...t,
    grpc: t.grpc && { ...t.grpc, host: undefined },
    http: { ...t.http, host: undefined },
    operations: { ...t.operations, host: undefined },
  }));
}

// ---------------------------------------------------------------------------------------------
// The Dockerfile, read as its instructions: continuation lines joined, comments dropped.

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}
interface Stage {
  readonly name: string;
  readonly base: string;
  readonly instructions: readonly Instruction[];
}

function instructionsOf(text: string): Instruction[] {
  const lines = text.split('\n').filter((line) => !/^\s*#/.test(line));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

function stagesOf(instructions: readonly Instruction[]): Stage[] {
  const globalArgs = new Map<string, string>();
  const stages: { name: string; base: string; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image, as, name] = instruction.args.split(/\s+/);
      const base = image.replace(/\$\{(\w+)\}/g, (_, arg: string) => globalArgs.get(arg) ?? '');
      stages.push({ name: as?.toUpperCase() === 'AS' ? name : String(stages.length), base, instructions: [] });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [name, value = ''] = instruction.args.split('=');
      globalArgs.set(name, value);
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return stages;
}

const dockerfile = stagesOf(instructionsOf(read('Dockerfile')));
const finalStage = dockerfile[dockerfile.length - 1];
const stageNamed = (name: string): Stage | undefined => dockerfile.find((stage) => stage.name === name);
const argsOf = (stage: Stage, keyword: string): string[] =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
/** `COPY [--from=x] [--chown=..] <sources...> <destination>` */
function copiesOf(stage: Stage): { from?: string; sources: string[]; destination: string }[] {
  return argsOf(stage, 'COPY').map((args) => {
    const words = args.split(/\s+/);
    const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((word) => !word.startsWith('--'));
    return { from, sources: paths.slice(0, -1), destination: paths[paths.length - 1] };
  });
}
const WORKDIR = argsOf(finalStage, 'WORKDIR').at(-1) ?? '/';

const packageJson = JSON.parse(read('package.json')) as {
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
};

// ---------------------------------------------------------------------------------------------

describe('docker-compose.yml runs the split topology', () => {
  it('has one service per target of split.yaml, built from the Dockerfile', () => {
    // Fails when a target is added to split.yaml without a service (or a service is renamed or
    // loses `build: .`), and when a ficus service is added that no target names.
    expect(ficusServices.map(([name]) => name).sort()).toEqual(split.targets.map((target) => target.name).sort());
    // Fails when a service builds something else than the one image of ./Dockerfile.
    for (const [, ficus] of ficusServices) expect(ficus.build).toBe('.');
  });

  it.each(split.targets.map((target) => [target.name, target.edge] as const))(
    'runs target %s with the right command',
    (name, edge) => {
      // Fails when a --target is misspelt or belongs to another service, or the gateway is started
      // as a service (or the other way round).
      const expected = edge
        ? ['node', 'dist/apps/gateway/src/main.js']
        : ['node', 'dist/apps/service/src/main.js', '--target', name];
      expect(service(name).command).toEqual(expected);
      // Fails when the entry point moves: the compiled file must come from a source the build compiles.
      const source = expected[1].replace(new RegExp(`^${BUILD_OUTPUT_DIR}/`), '').replace(/\.js$/, '.ts');
      expect(existsSync(join(ROOT, source))).toBe(true);
    },
  );

  it('gives every process the compose topology, which is split.yaml with compose addresses', () => {
    for (const [name] of ficusServices) {
      const topology = topologyOf(name); // throws when FICUS_TOPOLOGY is not a file the image holds
      // Fails when this compose topology and split.yaml disagree on which module runs where, a
      // port, a database or the partitions, e.g. when a port is changed in one of them only.
      expect(withoutHosts(topology)).toEqual(withoutHosts(split));
      expect(topology.kafka.partitions).toEqual(split.kafka.partitions);
      for (const target of topology.targets) {
        // Fails when a target is dialled at 127.0.0.1 (another container's loopback is not its own)
        // or at a name that is not its compose service.
        if (target.grpc) expect(target.grpc.host).toBe(target.name);
        // Fails when HTTP binds a container's loopback: the published gateway port and the other
        // containers would not reach it.
        expect(target.http.host).toBe('0.0.0.0');
      }
      // Fails when a process is pointed at a broker other than the compose one.
      expect(topology.kafka.brokers).toEqual(['kafka:9092']);
    }
    // Fails when the file that FICUS_TOPOLOGY names is not copied into dist by the build.
    const topologyFile = String(environmentOf('gateway').FICUS_TOPOLOGY).slice(
      `${WORKDIR}/${BUILD_OUTPUT_DIR}/`.length,
    );
    expect(
      RUNTIME_FILES.some(({ dir, pattern }) => topologyFile.startsWith(`${dir}/`) && pattern.test(topologyFile)),
    ).toBe(true);
  });

  it.each(split.targets.filter((t) => !t.edge).map((t) => [t.name, t.grpc!.port, t.http.port] as const))(
    'declares the ports of %s as the topology does (gRPC %d, HTTP %d)',
    (name, grpcPort, httpPort) => {
      // Fails when a port in split.yaml changes and docker-compose.yml is not updated with it.
      expect(service(name).expose).toEqual([String(grpcPort), String(httpPort)]);
      expect(healthPortOf(name)).toBe(httpPort);
    },
  );

  it('publishes the gateway on the edge port of the topology', () => {
    const edge = split.edgeTarget();
    // Fails when the published port maps to another container port than the edge's HTTP port.
    expect(service(edge.name).ports).toEqual([`${edge.http.port}:${edge.http.port}`]);
    // Fails when the edge's health check asks its public port: readiness is on its operations port alone.
    expect(healthPortOf(edge.name)).toBe(edge.operations.port);
    // Fails when another ficus service is published on the host: only the edge is public.
    for (const [name, ficus] of ficusServices) if (name !== edge.name) expect(ficus.ports).toBeUndefined();
  });

  it('starts every process after PostgreSQL and Kafka are healthy, and the gateway after the services', () => {
    // Fails when postgres or kafka loses its health check (service_healthy would never be met).
    expect(service('postgres').healthcheck?.test?.length).toBeGreaterThan(0);
    expect(service('kafka').healthcheck?.test?.length).toBeGreaterThan(0);
    for (const [name, ficus] of ficusServices) {
      // Fails when a depends_on entry is dropped or weakened to service_started.
      expect({ name, postgres: ficus.depends_on?.postgres?.condition }).toEqual({ name, postgres: 'service_healthy' });
      expect({ name, kafka: ficus.depends_on?.kafka?.condition }).toEqual({ name, kafka: 'service_healthy' });
      expect(ficus.healthcheck?.test?.length).toBeGreaterThan(0);
    }
    // Fails when the gateway may start before a service answers /ready (its first calls need identity).
    const edge = service(split.edgeTarget().name);
    for (const target of split.targets.filter((t) => !t.edge)) {
      expect({ target: target.name, condition: edge.depends_on?.[target.name]?.condition }).toEqual({
        target: target.name,
        condition: 'service_healthy',
      });
    }
  });

  it('connects every process to the compose PostgreSQL as its superuser and to the compose broker', () => {
    const postgres = environmentOf('postgres');
    for (const [name] of ficusServices) {
      const env = environmentOf(name);
      const url = new URL(String(env.DATABASE_URL));
      // Fails when the user, password or database of DATABASE_URL drifts from the postgres service's.
      expect({
        name,
        host: url.hostname,
        port: url.port,
        user: url.username,
        password: url.password,
        database: url.pathname,
      }).toEqual({
        name,
        host: 'postgres',
        port: '5432',
        user: postgres.POSTGRES_USER,
        password: postgres.POSTGRES_PASSWORD,
        database: `/${postgres.POSTGRES_DB}`,
      });
      // Fails when KAFKA_BROKERS is not the listener that the broker advertises.
      expect(`PLAINTEXT://${env.KAFKA_BROKERS}`).toBe(environmentOf('kafka').KAFKA_ADVERTISED_LISTENERS);
    }
  });

  it('mails through the compose mail catcher, with the settings production requires', () => {
    for (const [name] of ficusServices) {
      const env = environmentOf(name);
      // Fails when a setting the image's NODE_ENV=production requires is dropped: the process
      // hosting notifications would refuse to start.
      expect(() =>
        MailSettings.read({ NODE_ENV: 'production', ...(env as Record<string, string | undefined>) }),
      ).not.toThrow();
      // Fails when FICUS_SMTP_URL names a host that is no service of the file.
      const smtp = new URL(String(env.FICUS_SMTP_URL));
      expect(Object.keys(compose.services)).toContain(smtp.hostname);
      expect(service(smtp.hostname).expose).toContain(smtp.port);
    }
  });

  it('runs the Kafka version of the local broker, as a single KRaft node', () => {
    const pomVersion = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(read('infra/deploy/kafka/pom.xml'))?.[1];
    // Fails when infra/deploy/kafka/pom.xml and the apache/kafka image tag are bumped apart.
    expect(service('kafka').image).toBe(`apache/kafka:${pomVersion}`);
    const kafka = environmentOf('kafka');
    // Fails when the node stops being broker and controller at once, or a replication factor
    // exceeds the one node there is.
    expect(kafka.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    for (const key of Object.keys(kafka).filter((k) => /REPLICATION_FACTOR|MIN_ISR|MIN_INSYNC/.test(k)))
      expect({ key, value: kafka[key] }).toEqual({ key, value: '1' });
    expect(
      Object.keys(kafka)
        .filter((k) => k.endsWith('REPLICATION_FACTOR'))
        .sort(),
    ).toEqual([
      'KAFKA_DEFAULT_REPLICATION_FACTOR',
      'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR',
      'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR',
    ]);
  });
});

describe('Dockerfile builds one image for every process', () => {
  it('is multi-stage on Node 24', () => {
    // Fails when the build is squashed into one stage (the compiler would ship).
    expect(dockerfile.length).toBeGreaterThanOrEqual(2);
    // Fails when a stage moves to another Node major than the one the project ships on (ADR 0049).
    for (const stage of dockerfile.filter((s) => !stageNamed(s.base))) expect(stage.base).toMatch(/^node:24([.-]|$)/);
  });

  it('runs as a non-root user with NODE_ENV=production', () => {
    const users = argsOf(finalStage, 'USER');
    // Fails when the final stage has no USER, or its last one is root.
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    // Fails when NODE_ENV=production is removed from the final stage.
    expect(argsOf(finalStage, 'ENV').some((env) => /\bNODE_ENV=production\b/.test(env))).toBe(true);
    // Fails when compose's FICUS_TOPOLOGY (under /app) and the image's working folder part.
    expect(WORKDIR).toBe('/app');
  });

  it('ships only production dependencies and the compiled code', () => {
    const copies = copiesOf(finalStage);
    const modules = copies.find((copy) => copy.destination.replace(/\/$/, '').endsWith('node_modules'));
    // Fails when node_modules comes from the build stage (dev dependencies) or from an install
    // without --omit=dev.
    const from = stageNamed(modules?.from ?? '');
    expect(from).toBeDefined();
    expect(argsOf(from!, 'RUN').some((run) => /\bnpm ci\b/.test(run) && /--omit=dev\b/.test(run))).toBe(true);
    // Fails when the final stage installs packages itself or copies anything but dist from a stage that has dev dependencies.
    expect(argsOf(finalStage, 'RUN').filter((run) => /\bnpm (ci|install|i)\b/.test(run))).toEqual([]);
    const built = copies.filter((copy) => copy.from !== undefined && copy !== modules);
    expect(built.map((copy) => copy.sources)).toEqual([[`/app/${BUILD_OUTPUT_DIR}`]]);
  });

  it("builds with package.json's build script, which makes dist runnable by plain node", () => {
    const buildStage = stageNamed(
      copiesOf(finalStage).find((copy) => copy.sources[0] === `/app/${BUILD_OUTPUT_DIR}`)?.from ?? '',
    );
    // Fails when the image compiles some other way than `npm run build` (the proof runs of the
    // build are of that script) or copies dist from a stage that does not build.
    expect(buildStage).toBeDefined();
    expect(argsOf(buildStage!, 'RUN')).toContain('npm run build');
    // Fails when build or its post-step changes: tsc alone leaves `require("@infra/...")` that
    // node cannot resolve, and without the copy step dist has no topology YAMLs.
    expect(packageJson.scripts.build).toBe('tsc -p tsconfig.build.json');
    expect(packageJson.scripts.postbuild).toBe(
      'tsc-alias -p tsconfig.build.json && node -r @swc-node/register infra/deploy/docker/build-output.ts copy-runtime-files',
    );
    expect(packageJson.devDependencies['tsc-alias']).toBeDefined();
    // Fails when tsconfig's outDir moves away from the dist that the image copies and compose runs.
    const tsconfig = JSON.parse(read('tsconfig.json')) as { compilerOptions: { outDir: string } };
    expect(tsconfig.compilerOptions.outDir).toBe(BUILD_OUTPUT_DIR);
  });

  it('sends the build every source root that tsconfig.build.json compiles', () => {
    const base = JSON.parse(read('tsconfig.json')) as { include: string[] };
    const build = JSON.parse(read('tsconfig.build.json')) as { exclude: string[] };
    const roots = base.include.filter((dir) => !build.exclude.includes(dir));
    const buildStage = stageNamed('build')!;
    const copied = copiesOf(buildStage)
      .filter((copy) => copy.from === undefined)
      .flatMap((copy) => copy.sources);
    // Fails when a source root is added to tsconfig (or a config file is needed) and the
    // Dockerfile does not copy it into the build stage.
    for (const needed of [...roots, 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json']) {
      expect({ needed, copied: copied.includes(needed) }).toEqual({ needed, copied: true });
      // Fails when .dockerignore leaves it out of the build context.
      expect({ needed, inContext: !dockerIgnores(needed) }).toEqual({ needed, inContext: true });
    }
  });

  it('copies the topology YAMLs into dist, where shippedTopologyPath() looks for them', () => {
    const out = mkdtempSync(join(tmpdir(), 'ficus-dist-'));
    try {
      copyRuntimeFiles(out);
      const yamls = readdirSync(join(ROOT, 'infra/topology')).filter((file) => file.endsWith('.yaml'));
      expect(yamls).toEqual(expect.arrayContaining(['monolith.yaml', 'split.yaml', 'hybrid.yaml', 'compose.yaml']));
      // Fails when RUNTIME_FILES drops infra/topology or narrows its pattern.
      for (const file of yamls)
        expect({ file, copied: existsSync(join(out, 'infra/topology', file)) }).toEqual({ file, copied: true });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

/** Whether .dockerignore leaves a path out of the build context: the last matching line wins. */
function dockerIgnores(path: string): boolean {
  const rules = read('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  let ignored = false;
  for (const rule of rules) {
    const negated = rule.startsWith('!');
    const pattern = (negated ? rule.slice(1) : rule).replace(/\/$/, '');
    const regex = new RegExp(
      `^${pattern
        .split('**/')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('(.*/)?')}$`,
    );
    if (regex.test(path)) ignored = !negated;
  }
  return ignored;
}
