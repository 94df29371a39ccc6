import { readFileSync } from 'node:fs';
import { retiredTopology } from '@infra/extraction';
import { parseTopology, shippedTopologyPath } from '@infra/topology';

const env = { FICUS_DATABASE_PREFIX: 'shop' };
const load = (text: string) => parseTopology(text, 't.yaml', { env });

/**
 * `ficus retire` moves ownership, never data: after it, the retired context is owned by its own
 * target on exactly the database it worked on while extracted, and the owner keeps its own.
 */
describe('the topology after ficus retire', () => {
  it('from the monolith: both stay on the process database', () => {
    const extracting = `${readFileSync(shippedTopologyPath('monolith'), 'utf8').replace('    http: {', '    grpc: { port: 7050 }\n    http: {')}  inventory:\n    modules: [inventory]\n    extractedFrom: monolith\n    grpc: { port: 7052 }\n    http: { port: 3102 }\ndefaults:\n  grpc: { host: 127.0.0.1 }\n`;
    const before = load(extracting);
    expect(before.target('inventory').database).toEqual(before.target('monolith').database);
    const after = load(retiredTopology(extracting, 'inventory'));
    expect(after.targetOf('inventory').name).toBe('inventory');
    expect(after.target('monolith').modules).not.toContain('inventory');
    expect(after.target('inventory').database).toEqual({ kind: 'shared' });
    expect(after.target('monolith').database).toEqual({ kind: 'shared' });
    expect(after.kafka.brokers.length).toBeGreaterThan(0);
  });

  it("from hybrid's core: the extracted target keeps core's database, not the shared one", () => {
    const hybrid = readFileSync(shippedTopologyPath('hybrid'), 'utf8');
    const extracting = `${hybrid}\n  shipping:\n    modules: [shipping]\n    extractedFrom: core\n    grpc: { port: 7055 }\n    http: { port: 3105 }\n`;
    const before = load(extracting);
    expect(before.target('shipping').database).toEqual({ kind: 'name', name: 'shop_core' });
    const after = load(retiredTopology(extracting, 'shipping'));
    expect(after.targetOf('shipping').name).toBe('shipping');
    expect(after.target('shipping').database).toEqual({ kind: 'name', name: 'shop_core' });
    expect(after.target('core').database).toEqual({ kind: 'name', name: 'shop_core' });
    // Comments of the file survive.
    expect(retiredTopology(extracting, 'shipping')).toContain(hybrid.split('\n').find((line) => line.startsWith('#')));
  });

  it('refuses a context nobody is extracting', () => {
    expect(() => retiredTopology(readFileSync(shippedTopologyPath('split'), 'utf8'), 'inventory')).toThrow(
      /no target is extracting inventory/,
    );
  });
});
