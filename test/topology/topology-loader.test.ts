import { readFileSync } from 'node:fs';
import {
  KNOWN_MODULES,
  loadTopology,
  parseTopology,
  shippedTopologyPath,
  TopologyError,
  type Environment,
  type Topology,
} from '@infra/topology';
import { ALL_CONTEXTS, contextsBut, flowList } from '../support/contexts';

/** A YAML file from its lines, so that a test's line numbers can be read off the array. */
function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

/** The error lines a file produces (`file:line:column: message`), or a failure if it loads. */
function errorsOf(text: string, env: Environment = {}): string[] {
  try {
    parseTopology(text, 't.yaml', { env });
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyError);
    return (error as TopologyError).message.split('\n');
  }
  throw new Error('expected the topology to be rejected');
}

const ALL = ALL_CONTEXTS.join(', ');

/** A correct one-process topology to break line by line. */
const ONE_PROCESS = [
  'name: one', //                                   1
  'targets:', //                                    2
  '  app:', //                                      3
  '    edge: true', //                              4
  `    modules: [${ALL}]`, //                       5
  '    http: { port: 3000 }', //                    6
];

const load = (name: 'monolith' | 'split' | 'hybrid', env: Environment = {}): Topology =>
  loadTopology(shippedTopologyPath(name), { env });

describe('shipped topologies', () => {
  it('monolith: one process hosts every module and the edge', () => {
    const topology = load('monolith');

    expect(topology.name).toBe('monolith');
    expect(topology.isSingleProcess).toBe(true);
    expect(topology.edgeTarget().name).toBe('monolith');
    expect(topology.edgeTarget().http.port).toBe(3000);
    expect([...topology.modulesOf('monolith')].sort()).toEqual([...KNOWN_MODULES].sort());
    for (const a of KNOWN_MODULES) {
      expect(topology.targetOf(a).name).toBe('monolith');
      for (const b of KNOWN_MODULES) {
        expect(topology.isColocated(a, b)).toBe(true);
      }
    }
    expect(topology.targetOf('inventory').database).toEqual({ kind: 'shared' });
    expect(() => topology.addressOf('monolith')).toThrow(/only process/);
  });

  it('split: every context alone in a target of its own, with its own address, behind the gateway', () => {
    const topology = load('split');

    const edge = topology.edgeTarget();
    expect(edge.name).toBe('gateway');
    expect(edge.modules).toEqual([]);
    expect(edge.http.port).toBe(3000);
    expect(edge.database).toEqual({ kind: 'none' });
    expect(topology.targets).toHaveLength(1 + KNOWN_MODULES.length);

    const grpcPorts = new Set<number>();
    const httpPorts = new Set<number>([edge.http.port]);
    for (const module of KNOWN_MODULES) {
      const target = topology.targetOf(module);
      expect(target.name).toBe(module);
      expect(topology.modulesOf(module)).toEqual([module]);
      expect(target.edge).toBe(false);
      const address = topology.addressOf(target.name);
      expect(address).toEqual({
        host: '127.0.0.1',
        port: expect.any(Number),
        listenPort: address.port,
        deadlineMs: 5000,
      });
      expect(address.port).toBeGreaterThanOrEqual(7051);
      expect(address.port).toBeLessThanOrEqual(7059);
      expect(target.http.port).toBeGreaterThanOrEqual(3101);
      expect(target.http.port).toBeLessThanOrEqual(3109);
      grpcPorts.add(address.port);
      httpPorts.add(target.http.port);
      expect(target.database).toEqual({ kind: 'name', name: `ficus_${module}` });
      for (const other of KNOWN_MODULES) {
        expect(topology.isColocated(module, other)).toBe(module === other);
      }
    }
    expect(grpcPorts.size).toBe(KNOWN_MODULES.length);
    expect(httpPorts.size).toBe(KNOWN_MODULES.length + 1);
    expect(topology.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(topology.partitionsOf('ordering')).toBe(6);
  });

  it('split: a database of its own per context, named with FICUS_DATABASE_PREFIX; KAFKA_BROKERS takes over', () => {
    expect(load('split').targetOf('payments').database).toEqual({ kind: 'name', name: 'ficus_payments' });
    const topology = load('split', { FICUS_DATABASE_PREFIX: 'staging', KAFKA_BROKERS: 'kafka-0:9092, kafka-1:9092' });

    expect(topology.targetOf('inventory').database).toEqual({ kind: 'name', name: 'staging_inventory' });
    expect(topology.targetOf('payments').database).toEqual({ kind: 'name', name: 'staging_payments' });
    expect(topology.kafka.brokers).toEqual(['kafka-0:9092', 'kafka-1:9092']);
  });

  it('hybrid: inventory and payments run alone; the rest and the edge run in core', () => {
    const topology = load('hybrid');

    expect(topology.edgeTarget().name).toBe('core');
    expect(topology.modulesOf('inventory')).toEqual(['inventory']);
    expect(topology.modulesOf('payments')).toEqual(['payments']);
    expect([...topology.modulesOf('core')].sort()).toEqual(contextsBut('inventory', 'payments').sort());
    expect(topology.isColocated('ordering', 'catalog')).toBe(true);
    expect(topology.isColocated('ordering', 'inventory')).toBe(false);
    expect(topology.isColocated('ordering', 'payments')).toBe(false);
    expect(topology.isColocated('inventory', 'payments')).toBe(false);
    const ports = ['core', 'inventory', 'payments'].map((target) => topology.addressOf(target).port);
    expect(new Set(ports).size).toBe(3);
  });

  it('moving a module to a process of its own is an edit of the YAML alone', () => {
    const hybrid = readFileSync(shippedTopologyPath('hybrid'), 'utf8');
    const core = load('hybrid').modulesOf('core');
    const moved =
      hybrid.replace(
        `modules: ${flowList(core)}`,
        `modules: ${flowList(core.filter((module) => module !== 'shipping'))}`,
      ) + yaml('', '  shipping:', '    modules: [shipping]', '    grpc: { port: 50055 }', '    http: { port: 3105 }');

    const topology = parseTopology(moved, 'hybrid.yaml', { env: {} });

    expect(topology.targetOf('shipping').name).toBe('shipping');
    expect(topology.isColocated('shipping', 'ordering')).toBe(false);
    expect(topology.addressOf('shipping')).toMatchObject({ port: 50055 });
  });

  it('asking about a module or target the topology does not have is a clear error', () => {
    const topology = load('split');

    expect(() => topology.targetOf('billing')).toThrow('places no module "billing"');
    expect(() => topology.modulesOf('core')).toThrow('has no target "core"');
    expect(() => topology.addressOf('gateway')).toThrow('hosts no module');
  });
});

describe('topology errors name the file, the line and what to fix', () => {
  it('an unknown module, with the closest known name', () => {
    const text = yaml(
      ...ONE_PROCESS.slice(0, 4),
      `    modules: ${flowList(ALL_CONTEXTS.map((module) => (module === 'inventory' ? 'inventry' : module)))}`,
      ONE_PROCESS[5],
    );

    expect(errorsOf(text)).toEqual([
      't.yaml:5:24: module "inventry" is not a ficus module — did you mean "inventory"?',
    ]);
  });

  it('an unknown module with no name close to it lists the modules', () => {
    const text = yaml(
      'name: one', //                 1
      'targets:', //                  2
      '  app:', //                    3
      '    edge: true', //            4
      '    http: { port: 3000 }', //  5
      '    modules:', //              6
      ...ALL_CONTEXTS.map((module) => `      - ${module}`), // 7 on
      '      - billing', //           after the contexts
    );
    const billingLine = 7 + ALL_CONTEXTS.length;

    expect(errorsOf(text)).toEqual([
      `t.yaml:${billingLine}:9: module "billing" is not a ficus module — the modules are: ${ALL}`,
    ]);
  });

  it('a module in two targets names both targets and both lines', () => {
    const text = yaml(
      'name: two', //                                     1
      'defaults:', //                                     2
      '  grpc: { host: 127.0.0.1 }', //                   3
      '  kafka: { brokers: [127.0.0.1:9092] }', //        4
      'targets:', //                                      5
      '  core:', //                                       6
      '    edge: true', //                                7
      `    modules: [${ALL}]`, //                         8
      '    grpc: { port: 50050 }', //                     9
      '    http: { port: 3000 }', //                      10
      '  inventory:', //                                  11
      '    modules:', //                                  12
      '      - inventory', //                             13
      '    grpc: { port: 50052 }', //                     14
      '    http: { port: 3102 }', //                      15
    );

    expect(errorsOf(text)).toEqual([
      't.yaml:13:9: module "inventory" is in two targets, "core" (line 8) and "inventory" (line 13) — a module runs in exactly one target; remove it from one of them',
    ]);
  });

  it('a module listed twice in one target', () => {
    const line = `    modules: [${ALL}, catalog]`;
    const text = yaml(...ONE_PROCESS.slice(0, 4), line, ONE_PROCESS[5]);
    const column = line.lastIndexOf('catalog') + 1;

    expect(errorsOf(text)).toEqual([
      `t.yaml:5:${column}: module "catalog" is listed twice in target "app" (lines 5 and 5) — remove one`,
    ]);
  });

  it('a module in no target', () => {
    const text = yaml(...ONE_PROCESS.slice(0, 4), `    modules: ${flowList(contextsBut('shipping'))}`, ONE_PROCESS[5]);

    expect(errorsOf(text)).toEqual([
      't.yaml:2:1: module "shipping" runs in no target — add it to the modules of one target',
    ]);
  });

  it('a target that hosts modules without an address, in a multi-target topology', () => {
    const text = yaml(
      'name: two', //                                                                   1
      'defaults:', //                                                                   2
      '  kafka: { brokers: [127.0.0.1:9092] }', //                                      3
      'targets:', //                                                                    4
      '  gateway:', //                                                                  5
      '    edge: true', //                                                              6
      '    http: { port: 3000 }', //                                                    7
      '  everything:', //                                                               8
      `    modules: [${ALL}]`, //                                                       9
      '    http: { port: 3100 }', //                                                    10
    );

    expect(errorsOf(text)).toEqual([
      't.yaml:8:3: target "everything" hosts modules but has no gRPC address, and other targets call its modules — add "grpc: { host: <host>, port: <port> }"',
    ]);
  });

  it('a gRPC port without a host, when defaults give none', () => {
    const text = yaml(...ONE_PROCESS, '    grpc: { port: 50050 }');

    expect(errorsOf(text)).toEqual([
      't.yaml:7:5: target "app" has a gRPC port but no host — add "host:" to its grpc, or to defaults.grpc for all targets',
    ]);
  });

  it('a port clash names both places; localhost is 127.0.0.1', () => {
    const text = yaml(
      'name: two', //                                              1
      'defaults:', //                                              2
      '  kafka: { brokers: [127.0.0.1:9092] }', //                 3
      'targets:', //                                               4
      '  gateway:', //                                             5
      '    edge: true', //                                         6
      '    http: { host: localhost, port: 3000 }', //              7
      '  core:', //                                                8
      `    modules: [${ALL}]`, //                                  9
      '    grpc: { host: 127.0.0.1, port: 3000 }', //              10
      '    http: { port: 3100 }', //                               11
    );

    expect(errorsOf(text)).toEqual([
      't.yaml:10:36: 127.0.0.1:3000 is used twice: targets.gateway.http.port (line 7) and targets.core.grpc.port (line 10) — give one of them another port',
    ]);
  });

  it('the same port on different hosts is no clash', () => {
    const text = yaml(
      'name: k8s',
      'defaults:',
      '  kafka: { brokers: [kafka:9092] }',
      'targets:',
      '  gateway:',
      '    edge: true',
      '    http: { host: gateway, port: 3000 }',
      '  core:',
      `    modules: [${ALL}]`,
      '    grpc: { host: core, port: 50051 }',
      '    http: { port: 3000 }',
    );

    const topology = parseTopology(text, 't.yaml', { env: {} });

    expect(topology.targetOf('ordering').http).toEqual({ host: 'core', port: 3000 });
  });

  it('callers dial host:port; the process listens on listenPort when something sits in between', () => {
    const lines = [
      'name: proxied',
      'defaults:',
      '  kafka: { brokers: [127.0.0.1:9092] }',
      'targets:',
      '  gateway:',
      '    edge: true',
      '    http: { port: 3000 }',
      '  core:',
      `    modules: [${ALL}]`,
      '    grpc: { host: 127.0.0.1, port: 7250, listenPort: 7150 }',
      '    http: { port: 3001 }',
    ];

    const topology = parseTopology(yaml(...lines), 't.yaml', { env: {} });
    expect(topology.addressOf('core')).toMatchObject({ host: '127.0.0.1', port: 7250, listenPort: 7150 });

    // The port the process listens on is the one that can clash.
    const clash = yaml(...lines.map((line) => line.replace('listenPort: 7150', 'listenPort: 3001')));
    expect(errorsOf(clash)).toEqual([
      expect.stringMatching(
        /127\.0\.0\.1:3001 is used twice: targets\.core\.grpc\.listenPort .* and targets\.core\.http\.port/,
      ),
    ]);
  });

  it('who may call a context: the edge, hosts of listed modules, nobody unknown; a typo in callers is named', () => {
    const split = loadTopology(shippedTopologyPath('split'), { env: {} });
    expect(split.mayCall('gateway', 'catalog')).toBe(true);
    expect(split.mayCall('ordering', 'catalog')).toBe(true);
    expect(split.mayCall('shipping', 'catalog')).toBe(false);
    expect(split.mayCall('ordering', 'payments')).toBe(false);
    expect(split.mayCall('gateway', 'payments')).toBe(true);
    expect(split.mayCall(undefined, 'catalog')).toBe(false);
    expect(split.mayCall('intruder', 'catalog')).toBe(false);

    const text = yaml(
      'name: t',
      'defaults:',
      '  kafka: { brokers: [127.0.0.1:9092] }',
      'contexts:',
      '  catalog: { callers: [edge, orderin] }',
      'targets:',
      '  gateway:',
      '    edge: true',
      '    http: { port: 3000 }',
      '  core:',
      `    modules: [${ALL}]`,
      '    grpc: { host: 127.0.0.1, port: 7050 }',
      '    http: { port: 3001 }',
    );
    expect(errorsOf(text)).toEqual([
      expect.stringContaining(
        'contexts.catalog.callers: "orderin" is neither "edge" nor a ficus module — did you mean "ordering"?',
      ),
    ]);
  });

  it('an unknown key, with the key it most likely meant', () => {
    const text = yaml(...ONE_PROCESS.slice(0, 4), `    modles: [${ALL}]`, ONE_PROCESS[5]);

    expect(errorsOf(text)).toEqual([
      `t.yaml:2:1: modules ${ALL.split(', ')
        .map((module) => `"${module}"`)
        .join(', ')} run in no target — add each to the modules of one target`,
      't.yaml:5:5: unknown key "modles" in targets.app — did you mean "modules"?',
    ]);
  });

  it('an unknown key far from any known one lists the keys allowed there', () => {
    const text = yaml(...ONE_PROCESS, '    replicas: 3');

    expect(errorsOf(text)).toEqual([
      't.yaml:7:5: unknown key "replicas" in targets.app — remove it (allowed here: edge, modules, grpc, http, database, resilience, canary, legacy, extractedFrom)',
    ]);
  });

  it('an unknown top-level key', () => {
    const text = yaml('name: one', 'target:', ...ONE_PROCESS.slice(2));

    expect(errorsOf(text)).toEqual([
      't.yaml:1:1: targets is missing — add "targets:" with one entry per process (see infra/topology/README.md)',
      't.yaml:2:1: unknown key "target" at the top level — did you mean "targets"?',
    ]);
  });

  it('wrong types say what was expected and what was found', () => {
    const text = yaml(
      'name: one', //                                  1
      'targets:', //                                   2
      '  app:', //                                     3
      '    edge: yes', //                              4
      `    modules: [${ALL}]`, //                      5
      '    http: { port: three-thousand }', //         6
      '    grpc: { host: 127.0.0.1, port: 70000 }', // 7
    );

    expect(errorsOf(text)).toEqual([
      't.yaml:2:1: no target serves the HTTP edge — add "edge: true" to the target that serves the public API',
      't.yaml:4:11: targets.app.edge must be true or false, not "yes"',
      't.yaml:6:19: targets.app.http.port must be a number, not "three-thousand"',
      't.yaml:7:36: targets.app.grpc.port must be a port between 1 and 65535, not 70000',
    ]);
  });

  it('a string where a list belongs, and a missing http', () => {
    const text = yaml('name: one', 'targets:', '  app:', '    edge: true', `    modules: ${ALL}`);

    expect(errorsOf(text)).toEqual([
      `t.yaml:2:1: modules ${ALL.split(', ')
        .map((module) => `"${module}"`)
        .join(', ')} run in no target — add each to the modules of one target`,
      't.yaml:3:3: targets.app.http is missing — add "http: { port: <number> }" (the public API on the edge, with /health, /ready, /metrics on its operations port; /health, /ready, /metrics elsewhere)',
      `t.yaml:5:14: targets.app.modules must be a list ([a, b] or one "- item" per line), not "${ALL}"`,
    ]);
  });

  it('YAML syntax errors point at the broken line', () => {
    const text = yaml('name: one', 'targets:', '  app:', '    edge: true', '    modules: [catalog', '  other: 1');

    const errors = errorsOf(text);

    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^t\.yaml:6:3: YAML syntax: .+ — check the indentation/);
  });

  it('a key written twice is a syntax error at the second one', () => {
    const text = yaml(...ONE_PROCESS, '  app:', '    http: { port: 3001 }');

    expect(errorsOf(text)).toEqual([
      't.yaml:7:3: YAML syntax: Map keys must be unique — the same key is written twice in one map; keep one',
    ]);
  });

  it('tabs as indentation', () => {
    const text = yaml('name: one', 'targets:', '  app:', '\tedge: true');

    expect(errorsOf(text)).toEqual([
      't.yaml:4:1: YAML syntax: Tabs are not allowed as indentation — indent with spaces, not tabs',
    ]);
  });

  it('an unquoted ${VAR} inside { } says to quote it', () => {
    const text = yaml(...ONE_PROCESS.slice(0, 5), '    http: { port: ${PORT:-3000} }');

    const errors = errorsOf(text);

    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^t\.yaml:6:\d+: YAML syntax: .+ — quote a reference inside \{ \} or \[ \]: "\$\{PORT:-3000\}"/,
    );
  });

  it('exactly one edge', () => {
    const text = yaml(
      'name: two', //                                  1
      'defaults:', //                                  2
      '  grpc: { host: 127.0.0.1 }', //                3
      '  kafka: { brokers: [127.0.0.1:9092] }', //     4
      'targets:', //                                   5
      '  a:', //                                       6
      '    edge: true', //                             7
      `    modules: [${ALL}]`, //                      8
      '    grpc: { port: 50050 }', //                  9
      '    http: { port: 3000 }', //                   10
      '  b:', //                                       11
      '    edge: true', //                             12
      '    http: { port: 3001 }', //                   13
    );

    expect(errorsOf(text)).toEqual([
      't.yaml:12:11: targets "a" (line 7) and "b" (line 12) both serve the HTTP edge — keep "edge: true" on one',
    ]);
  });

  it('a target that is neither the edge nor hosts a module', () => {
    const text = yaml(
      'name: two', //                                  1
      'defaults:', //                                  2
      '  kafka: { brokers: [127.0.0.1:9092] }', //     3
      'targets:', //                                   4
      '  app:', //                                     5
      '    edge: true', //                             6
      `    modules: [${ALL}]`, //                      7
      '    grpc: { host: 127.0.0.1, port: 50050 }', // 8
      '    http: { port: 3000 }', //                   9
      '  idle:', //                                    10
      '    modules: []', //                            11
      '    http: { port: 3001 }', //                   12
      '  bare:', //                                    13
      '    http: { port: 3002 }', //                   14
    );

    expect(errorsOf(text)).toEqual([
      't.yaml:11:14: target "idle" hosts no module and is not the edge — list its modules (modules: [catalog]) or remove the target',
      't.yaml:13:3: target "bare" hosts no module and is not the edge — list its modules (modules: [catalog]) or remove the target',
    ]);
  });

  it('a multi-target topology without Kafka brokers', () => {
    const text = yaml(
      'name: two',
      'targets:', //                                   2
      '  gateway:',
      '    edge: true',
      '    http: { port: 3000 }',
      '  core:',
      `    modules: [${ALL}]`,
      '    grpc: { host: 127.0.0.1, port: 50050 }',
      '    http: { port: 3100 }',
    );

    expect(errorsOf(text)).toEqual([
      't.yaml:1:1: events between targets travel over Kafka, but no brokers are given — add defaults.kafka.brokers, e.g. "brokers: ${KAFKA_BROKERS:-127.0.0.1:9092}"',
    ]);
  });

  it('per-context settings for an unknown context, and partitions below one', () => {
    const text = yaml(
      ...ONE_PROCESS,
      'contexts:',
      '  orderng: { kafka: { partitions: 12 } }',
      '  payments: { kafka: { partitions: 0 } }',
    );

    expect(errorsOf(text)).toEqual([
      't.yaml:8:3: contexts.orderng: "orderng" is not a ficus module — did you mean "ordering"?',
      't.yaml:9:36: contexts.payments.kafka.partitions must be at least 1, not 0',
    ]);
  });

  it('every problem at once, in line order, each on its own line', () => {
    const text = yaml(
      'name: split', //                                1
      'defaults:', //                                  2
      '  grpc: { host: 127.0.0.1 }', //                3
      '  kafka: { brokers: [127.0.0.1:9092] }', //     4
      'targets:', //                                   5
      '  gateway:', //                                 6
      '    edge: true', //                             7
      '    http: { port: 3000 }', //                   8
      '  core:', //                                    9
      `    modules: ${flowList(contextsBut('inventory', 'payments'))}`, // 10
      '    grpc: { port: 50050 }', //                  11
      '    http: { port: 3100 }', //                   12
      '  inventory:', //                               13
      '    modules: [inventry]', //                    14
      '    grpc: { port: 50050 }', //                  15
      '    htp: { port: 3102 }', //                    16
    );

    let error: unknown;
    try {
      parseTopology(text, 'split.yaml', { env: {} });
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(TopologyError);
    expect((error as TopologyError).message).toBe(
      [
        'split.yaml:5:1: module "payments" runs in no target — add it to the modules of one target',
        'split.yaml:13:3: targets.inventory.http is missing — add "http: { port: <number> }" (the public API on the edge, with /health, /ready, /metrics on its operations port; /health, /ready, /metrics elsewhere)',
        'split.yaml:14:15: module "inventry" is not a ficus module — did you mean "inventory"?',
        'split.yaml:15:19: 127.0.0.1:50050 is used twice: targets.core.grpc.port (line 11) and targets.inventory.grpc.port (line 15) — give one of them another port',
        'split.yaml:16:5: unknown key "htp" in targets.inventory — did you mean "http"?',
      ].join('\n'),
    );
    expect((error as TopologyError).issues[2]).toEqual({
      file: 'split.yaml',
      line: 14,
      column: 15,
      message: 'module "inventry" is not a ficus module — did you mean "inventory"?',
    });
  });

  it('a file that cannot be read, and an empty one', () => {
    expect(() => loadTopology('infra/topology/no-such.yaml')).toThrow(
      'infra/topology/no-such.yaml: cannot read the topology file (ENOENT) — check the path',
    );
    expect(errorsOf('# nothing yet\n')).toEqual([
      't.yaml:1:1: the file is empty — a topology needs "name:" and "targets:" (see infra/topology/README.md)',
    ]);
  });
});

describe('environment variables in values', () => {
  const withPort = (port: string): string => yaml(...ONE_PROCESS.slice(0, 5), '    http:', `      port: ${port}`);

  it('${VAR} is replaced by its value; a value that reads as a number is a number', () => {
    const topology = parseTopology(withPort('${PORT}'), 't.yaml', { env: { PORT: '8080' } });

    expect(topology.edgeTarget().http.port).toBe(8080);
  });

  it('${VAR:-default} gives the default when VAR is unset or empty, and VAR otherwise', () => {
    const port = (env: Environment): number =>
      parseTopology(withPort('${PORT:-3000}'), 't.yaml', { env }).edgeTarget().http.port;

    expect(port({})).toBe(3000);
    expect(port({ PORT: '' })).toBe(3000);
    expect(port({ PORT: '4000' })).toBe(4000);
  });

  it('a quoted reference inside { } works too', () => {
    const text = yaml(...ONE_PROCESS.slice(0, 5), '    http: { port: "${PORT:-3000}" }');

    expect(parseTopology(text, 't.yaml', { env: {} }).edgeTarget().http.port).toBe(3000);
  });

  it('a reference that comes out empty leaves the key out, so the default applies', () => {
    const text = yaml(...ONE_PROCESS, '    database:', '      url: ${DATABASE_URL_APP:-}');

    expect(parseTopology(text, 't.yaml', { env: {} }).edgeTarget().database).toEqual({ kind: 'shared' });
    expect(
      parseTopology(text, 't.yaml', { env: { DATABASE_URL_APP: 'postgres://a:b@db:5432/app' } }).edgeTarget().database,
    ).toEqual({
      kind: 'url',
      url: 'postgres://a:b@db:5432/app',
    });
  });

  it('text around references is kept, and $$ is a literal $', () => {
    const text = yaml(
      ...ONE_PROCESS,
      '    database:',
      '      url: postgres://app:pa$$word@${DB_HOST:-localhost}:5432/shop',
    );

    expect(parseTopology(text, 't.yaml', { env: { DB_HOST: 'db.internal' } }).edgeTarget().database).toEqual({
      kind: 'url',
      url: 'postgres://app:pa$word@db.internal:5432/shop',
    });
  });

  it('a variable without a default that is not set is an error at its line, and only that', () => {
    expect(errorsOf(withPort('${GATEWAY_PORT}'))).toEqual([
      't.yaml:7:13: environment variable GATEWAY_PORT is not set — set it, or give a default: ${GATEWAY_PORT:-value}',
    ]);
  });

  it('a malformed reference is an error', () => {
    expect(errorsOf(withPort('${1PORT}'))).toEqual([
      't.yaml:7:13: "${1PORT}" is not a variable reference — write ${NAME} or ${NAME:-default} (NAME: letters, digits, "_")',
    ]);
    expect(errorsOf(withPort('${PORT'))).toEqual([
      't.yaml:7:13: "${PORT" has no closing "}" — write ${NAME} or ${NAME:-default}, or $$ for a literal "$"',
    ]);
  });

  it('reads process.env unless told otherwise', () => {
    const saved = process.env.FICUS_TOPOLOGY_TEST_PORT;
    process.env.FICUS_TOPOLOGY_TEST_PORT = '3999';
    try {
      expect(parseTopology(withPort('${FICUS_TOPOLOGY_TEST_PORT}'), 't.yaml').edgeTarget().http.port).toBe(3999);
    } finally {
      if (saved === undefined) {
        delete process.env.FICUS_TOPOLOGY_TEST_PORT;
      } else {
        process.env.FICUS_TOPOLOGY_TEST_PORT = saved;
      }
    }
  });
});

describe('resilience settings', () => {
  it('split.yaml: defaults for every remote target, and an override for one method', () => {
    const topology = load('split');
    expect(topology.resilience.defaults).toMatchObject({
      retries: 2,
      breaker: { failuresToOpen: 5, openForMs: 30_000, successesToClose: 2 },
    });
    expect(topology.resilience.methods['payments.getPayment']).toEqual({ retries: 1, timeoutMs: 1_000 });
    expect(topology.resilience.methods['inventory.checkStock']).toBeUndefined();
  });

  it('a per-target bulkhead, and a typo in a breaker setting named with its line', () => {
    const ok = parseTopology(
      [
        'name: t',
        'targets:',
        '  app:',
        `    modules: ${flowList(ALL_CONTEXTS)}`,
        '    edge: true',
        '    http: { port: 3000 }',
        '    resilience:',
        '      bulkhead: { maxConcurrent: 2, maxQueued: 2 }',
      ].join('\n'),
      't.yaml',
    );
    expect(ok.resilience.targets.app.bulkhead).toEqual({ maxConcurrent: 2, maxQueued: 2 });
    expect(() =>
      parseTopology(
        [
          'name: t',
          'defaults:',
          '  resilience:',
          '    breaker: { failuresToOpen: 5, openFor: 30000, successesToClose: 2 }',
          'targets:',
          '  app:',
          `    modules: ${flowList(ALL_CONTEXTS)}`,
          '    edge: true',
          '    http: { port: 3000 }',
        ].join('\n'),
        't.yaml',
      ),
    ).toThrow(/t\.yaml:4:\d+: .*openFor/);
  });
});
