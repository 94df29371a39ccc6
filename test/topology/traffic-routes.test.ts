import { parseTopology, TopologyError } from '@infra/topology';
import { contextsBut, flowList } from '../support/contexts';

const ALL_BUT_ORDERING = flowList(contextsBut('ordering'));

/** A gateway-less two-target topology whose ordering target gets a canary, and its edge a legacy upstream. */
function topology(canary: string, legacy: string): string {
  return [
    'name: routes',
    'defaults: { grpc: { host: 127.0.0.1 }, kafka: { brokers: [127.0.0.1:9092] } }',
    'targets:',
    '  core:',
    '    edge: true',
    `    modules: ${ALL_BUT_ORDERING}`,
    '    grpc: { port: 7050 }',
    '    http: { port: 3000 }',
    legacy,
    '  ordering:',
    '    modules: [ordering]',
    '    grpc: { port: 7053 }',
    '    http: { port: 3103 }',
    canary,
    '',
  ].join('\n');
}

function rejection(text: string): string {
  try {
    parseTopology(text, 't.yaml', { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyError);
    return (error as TopologyError).message;
  }
  throw new Error('expected the topology to be rejected');
}

/** Per-target traffic routes in a topology: a second version of a target, and the edge's legacy upstream. */
describe('traffic routes in a topology', () => {
  it('reads a canary with its own ports, its share and stickiness, and a legacy upstream on the edge', () => {
    const loaded = parseTopology(
      topology(
        '    canary: { grpc: { port: 7063 }, http: { port: 3113 }, percent: 10, sticky: caller }',
        '    legacy: { url: "http://legacy-shop:8080", routes: [/reviews, /account] }',
      ),
      't.yaml',
      { env: {} },
    );
    expect(loaded.target('ordering').canary).toEqual({
      grpc: { host: '127.0.0.1', port: 7063, listenPort: 7063, deadlineMs: expect.any(Number) },
      http: { host: '127.0.0.1', port: 3113 },
      percent: 10,
      sticky: 'caller',
    });
    expect(loaded.target('core').legacy).toEqual({ url: 'http://legacy-shop:8080', routes: ['/reviews', '/account'] });
    expect(loaded.target('core').canary).toBeUndefined();
  });

  it('refuses a share outside 0–100, a legacy URL that is not http, and a legacy upstream off the edge', () => {
    expect(rejection(topology('    canary: { grpc: { port: 7063 }, http: { port: 3113 }, percent: 120 }', ''))).toMatch(
      /canary\.percent/,
    );
    expect(rejection(topology('', '    legacy: { url: "ftp://old" }'))).toMatch(/legacy\.url.*http\(s\) URL/);
    expect(rejection(topology('    legacy: { url: "http://old:8080" }', ''))).toMatch(
      /"ordering" has a legacy upstream but is not the edge/,
    );
  });
});
