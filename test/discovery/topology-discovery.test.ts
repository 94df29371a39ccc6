import { readInstanceSettings, withInstancePorts } from '@infra/discovery';
import {
  DEFAULT_DISCOVERY,
  loadTopology,
  parseTopology,
  SHIPPED_TOPOLOGIES,
  shippedTopologyPath,
  TopologyError,
} from '@infra/topology';
import { ALL_CONTEXTS, contextsBut, flowList } from '../support/contexts';

/** How a topology says which targets are found through the registry, and how an instance moves ports. */

const TWO_TARGETS = (defaults: string[], inventoryGrpc = '{ port: 7602 }') =>
  [
    'name: two',
    'defaults:',
    '  grpc: { host: 127.0.0.1 }',
    '  kafka: { brokers: 127.0.0.1:9092 }',
    ...defaults,
    'targets:',
    '  core:',
    '    edge: true',
    `    modules: ${flowList(contextsBut('inventory'))}`,
    '    grpc: { port: 7601 }',
    '    http: { port: 3601 }',
    '  inventory:',
    '    modules: [inventory]',
    `    grpc: ${inventoryGrpc}`,
    '    http: { port: 3602 }',
    '',
  ].join('\n');

const errorsOf = (text: string): string[] => {
  try {
    parseTopology(text, 't.yaml', { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyError);
    return (error as TopologyError).message.split('\n');
  }
  throw new Error('expected the topology to be rejected');
};

describe('topology: discovery', () => {
  it('is static unless the file says otherwise: every shipped topology dials the addresses it names', () => {
    for (const name of SHIPPED_TOPOLOGIES) {
      const topology = loadTopology(shippedTopologyPath(name), { env: {} });
      expect(topology.discovery).toEqual(DEFAULT_DISCOVERY);
      for (const target of topology.targets) expect(topology.discoveryOf(target.name)).toBe('static');
    }
    expect(parseTopology(TWO_TARGETS([]), 't.yaml', { env: {} }).discoveryOf('inventory')).toBe('static');
  });

  it('finds one target through the registry (grpc.discovery), or every target with a gRPC address (defaults.discovery.mode)', () => {
    const one = parseTopology(TWO_TARGETS([], '{ port: 7602, discovery: registry }'), 't.yaml', { env: {} });
    expect(one.discoveryOf('inventory')).toBe('registry');
    expect(one.discoveryOf('core')).toBe('static');
    expect(one.discovery.registryTargets).toEqual(['inventory']);
    // the address stays what it was: still the one a static caller or a readiness message uses
    expect(one.addressOf('inventory')).toMatchObject({ host: '127.0.0.1', port: 7602 });

    const all = parseTopology(
      TWO_TARGETS(
        ['  discovery: { mode: registry, heartbeatMs: 500, ttlMs: 2000 }'],
        '{ port: 7602, discovery: static }',
      ),
      't.yaml',
      { env: {} },
    );
    expect(all.discovery).toEqual({ heartbeatMs: 500, ttlMs: 2000, registryTargets: ['core'] });
    expect(all.discoveryOf('inventory')).toBe('static'); // a target may opt out
  });

  it('says what is wrong with a discovery setting, where it is', () => {
    expect(errorsOf(TWO_TARGETS(['  discovery: { mode: dns }']))).toEqual([
      expect.stringMatching(/^t\.yaml:5:\d+: defaults\.discovery\.mode .*"static"\|"registry"/),
    ]);
    expect(errorsOf(TWO_TARGETS(['  discovery: { heartbeatMs: 1000, ttlMs: 1500 }']))).toEqual([
      expect.stringMatching(
        /^t\.yaml:5:\d+: defaults\.discovery: ttlMs \(1500\) must be at least twice heartbeatMs \(1000\)/,
      ),
    ]);
    expect(errorsOf(TWO_TARGETS(['  discovery: { ttl: 1500 }']))).toEqual([
      expect.stringMatching(
        /unknown key "ttl" in defaults\.discovery — remove it \(allowed here: mode, heartbeatMs, ttlMs\)/,
      ),
    ]);
  });

  it('a single-process topology never uses the registry, whatever it says', () => {
    const one = parseTopology(
      [
        'name: one',
        'defaults: { discovery: { mode: registry } }',
        'targets:',
        '  app:',
        '    edge: true',
        `    modules: ${flowList(ALL_CONTEXTS)}`,
        '    grpc: { host: 127.0.0.1, port: 7600 }',
        '    http: { port: 3600 }',
      ].join('\n'),
      't.yaml',
      { env: {} },
    );
    expect(one.discoveryOf('app')).toBe('static');
  });
});

describe('instance settings', () => {
  it('reads the id from --instance, then FICUS_INSTANCE_ID, then host and pid; ports from the environment', () => {
    expect(readInstanceSettings({ FICUS_INSTANCE_ID: 'from-env' }, { instance: 'from-flag' }).instanceId).toBe(
      'from-flag',
    );
    expect(
      readInstanceSettings({ FICUS_INSTANCE_ID: 'from-env', FICUS_GRPC_PORT: '7603', FICUS_HTTP_PORT: '3603' }),
    ).toEqual({
      instanceId: 'from-env',
      grpcPort: 7603,
      httpPort: 3603,
      advertiseHost: undefined,
    });
    expect(readInstanceSettings({}).instanceId).toMatch(new RegExp(`-${process.pid}$`));
    expect(() => readInstanceSettings({ FICUS_GRPC_PORT: 'seventy' })).toThrow(/FICUS_GRPC_PORT/);
    expect(() => readInstanceSettings({}, { instance: 'has space' })).toThrow(/FICUS_INSTANCE_ID/);
  });

  it('moves only its own target to the ports it was given', () => {
    const topology = parseTopology(TWO_TARGETS([], '{ port: 7602, discovery: registry }'), 't.yaml', { env: {} });
    const second = withInstancePorts(topology, 'inventory', { instanceId: 'b', grpcPort: 7603, httpPort: 3603 });
    expect(second.target('inventory').grpc).toMatchObject({ port: 7603, listenPort: 7603 });
    expect(second.target('inventory').http.port).toBe(3603);
    expect(second.target('core')).toBe(topology.target('core'));
    expect(second.discoveryOf('inventory')).toBe('registry');
    expect(topology.target('inventory').grpc?.port).toBe(7602); // the original is untouched
    expect(withInstancePorts(topology, 'inventory', { instanceId: 'a' })).toBe(topology);
  });

  it("moves a target's /health, /ready and /metrics with it: the edge's operations port to its HTTP port + 1000 unless given, another target's to its one port", () => {
    const topology = parseTopology(TWO_TARGETS([]), 't.yaml', { env: {} });
    const edge = (settings: NodeJS.ProcessEnv) =>
      withInstancePorts(topology, 'core', readInstanceSettings(settings)).target('core');
    expect(edge({ FICUS_HTTP_PORT: '3611' }).operations.port).toBe(4611);
    expect(edge({ FICUS_HTTP_PORT: '3611', FICUS_OPERATIONS_PORT: '4999' }).operations.port).toBe(4999);
    expect(edge({ FICUS_HTTP_PORT: '0' }).operations.port).toBe(0); // a free one, not 1000
    expect(edge({ FICUS_OPERATIONS_PORT: '4998' })).toMatchObject({ http: { port: 3601 }, operations: { port: 4998 } });
    const inventory = withInstancePorts(
      topology,
      'inventory',
      readInstanceSettings({ FICUS_HTTP_PORT: '3612' }),
    ).target('inventory');
    expect(inventory.operations).toEqual(inventory.http);
    expect(inventory.http.port).toBe(3612);
  });

  it('honours PORT, the conventional name, in a topology of one process only: split processes would all take the same port', () => {
    const monolith = loadTopology(shippedTopologyPath('monolith'), { env: {} });
    const moved = withInstancePorts(monolith, 'monolith', readInstanceSettings({ PORT: '3100' })).target('monolith');
    expect([moved.http.port, moved.operations.port]).toEqual([3100, 4100]);
    expect(
      withInstancePorts(monolith, 'monolith', readInstanceSettings({ PORT: '3100', FICUS_HTTP_PORT: '3200' })).target(
        'monolith',
      ).http.port,
    ).toBe(3200);
    const split = parseTopology(TWO_TARGETS([]), 't.yaml', { env: {} });
    expect(withInstancePorts(split, 'core', readInstanceSettings({ PORT: '3100' }))).toBe(split);
    expect(() => readInstanceSettings({ PORT: 'eighty' })).toThrow(/PORT/);
  });
});
