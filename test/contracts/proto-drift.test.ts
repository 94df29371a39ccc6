import { CONTEXT_CONTRACTS } from '@contracts/contexts';
import { loadContractProto, serviceDrift } from '../support/proto-drift';

/** Every context's .proto (the source of truth on the wire) and its TypeScript contract agree. */
const CONTRACTS = Object.values(CONTEXT_CONTRACTS).map((entry) => [entry.proto, entry.contract] as const);

describe.each(CONTRACTS)('%s', (proto, contract) => {
  it(`has the same rpcs, streaming and fields as ${contract.name}`, () => {
    expect(serviceDrift(loadContractProto(proto), contract)).toEqual([]);
  });

  it('is what the contract carries as its generated wire definition', () => {
    const root = loadContractProto(proto);
    const service = root.lookupService(contract.name);
    expect(contract.wire?.fullName).toBe(contract.name);
    expect(
      Object.values(contract.wire!.methods)
        .map((m) => m.name)
        .sort(),
    ).toEqual(service.methodsArray.map((m) => m.name).sort());
  });
});

/** Every subgraph's contract is the subgraph service its context's .proto declares. */
const SUBGRAPHS = Object.values(CONTEXT_CONTRACTS).flatMap((entry) =>
  entry.subgraph ? [[entry.proto, entry.subgraph.contract] as const] : [],
);

describe.each(SUBGRAPHS)('%s, its subgraph service', (proto, contract) => {
  it(`has the rpc and fields of ${contract.name}, whose wire definition it is`, () => {
    const root = loadContractProto(proto);
    expect(serviceDrift(root, contract)).toEqual([]);
    expect(contract.wire?.fullName).toBe(contract.name);
    expect(root.lookupService(contract.name).methodsArray.map((m) => m.name)).toEqual(['Execute']);
  });
});
