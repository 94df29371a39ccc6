import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topologyOnFreePorts } from '@infra/deploy/local/tcp-port';
import { loadTopology, shippedTopologyPath, type Topology } from '@infra/topology';

/** Every port a topology's processes listen on, by target. */
function listenersOf(topology: Topology): Record<string, number[]> {
  return Object.fromEntries(
    topology.targets.map((target) => [
      target.name,
      [target.http.port, target.operations.port, ...(target.grpc ? [target.grpc.port] : [])],
    ]),
  );
}

describe('a shipped topology on free ports (what the parity suite and the benchmarks launch)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ficus-free-ports-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['monolith', 'hybrid', 'split'] as const)('%s: the same targets, none on a shipped port', async (name) => {
    const shippedPath = shippedTopologyPath(name);
    const shipped = loadTopology(shippedPath);
    const copy = loadTopology(await topologyOnFreePorts(shippedPath, dir));

    expect(copy.targets.map((t) => [t.name, t.edge, t.modules])).toEqual(
      shipped.targets.map((t) => [t.name, t.edge, t.modules]),
    );
    const shippedPorts = new Set(Object.values(listenersOf(shipped)).flat());
    const copied = Object.values(listenersOf(copy)).flat();
    expect(copied.filter((port) => shippedPorts.has(port))).toEqual([]);
    // As many distinct listeners as before: two listeners never land on one port.
    expect(new Set(copied).size).toBe(shippedPorts.size);
  });

  it('changes nothing but the numbers of the ports', async () => {
    const shippedPath = shippedTopologyPath('split');
    const copy = readFileSync(await topologyOnFreePorts(shippedPath, dir), 'utf8');
    const numbersOut = (text: string) => text.replace(/\b(port|operationsPort): \d+/g, '$1: N');
    expect(numbersOut(copy)).toBe(numbersOut(readFileSync(shippedPath, 'utf8')));
  });
});
