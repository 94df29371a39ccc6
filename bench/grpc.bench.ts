import { Logger } from '@nestjs/common';
import {
  Client,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  type handleUnaryCall,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  CheckStockRequest,
  CheckStockResponse,
  InventoryServiceDefinition,
} from '@contracts/generated/inventory/inventory';
import { InventoryContract, type InventoryApi } from '@contracts/inventory';
import type { CallContext } from '@contracts/kernel';
import { ContractBus, type ContractImplementation } from '@infra/messaging';
import { GrpcContractServer, GrpcContractTransport } from '@infra/messaging/grpc';
import { line, median, percentile, sideBySide, writeResult } from './measure';
import { scaled } from './bench-scale';

const CALLS_PER_ROUND = scaled(1_000, 100);
const ROUNDS = scaled(15, 3);
const WARM_UP_CALLS = scaled(2_000, 100);
const REQUEST = { skus: ['FICUS-PUMILA', 'SOIL-MIX'] };

/** The trivial work both servers do: a stock level per asked sku. */
function levelsOf(skus: readonly string[]) {
  return { levels: skus.map((sku) => ({ sku, available: 42, reserved: 0 })) };
}

/** Inventory's contract served by a trivial implementation; only checkStock is called. */
const trivialInventory: InventoryApi = {
  checkStock: async (_ctx, request) => levelsOf(request.skus),
  reserveStock: async () => ({ reserved: true, unavailableSkus: [] }),
  releaseStock: async () => ({ released: true }),
  restock: async (_ctx, request) => ({ sku: request.sku, available: request.quantity, reserved: 0 }),
  watchStock: async function* () {
    // never called here
  },
};

interface Round {
  /** Mean wall time per call, ns. */
  readonly nsPerCall: number;
  /** CPU of this process (client + server side) per call, ns. */
  readonly cpuNsPerCall: number;
}

/** Sequential calls, each timed; every call's duration also lands in `samples`. */
async function round(call: () => Promise<unknown>, calls: number, samples: number[]): Promise<Round> {
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    const at = process.hrtime.bigint();
    await call();
    samples.push(Number(process.hrtime.bigint() - at));
  }
  const elapsed = Number(process.hrtime.bigint() - started);
  const cpu = process.cpuUsage(cpuBefore);
  return { nsPerCall: elapsed / calls, cpuNsPerCall: ((cpu.user + cpu.system) * 1_000) / calls };
}

/**
 * (4) One contract call across a real loopback socket: the ficus client (GrpcContractTransport,
 * routed on a ContractBus) to GrpcContractServer, which hands it to the in-process transport and a
 * trivial implementation — against grpc-js used directly for the same method with the same
 * generated codecs and the same trivial work. Both send a deadline; ficus also sends its call
 * context (correlation id) and checks request and answer against the contract's schemas.
 */
export async function benchGrpc(): Promise<Record<string, unknown>> {
  Logger.overrideLogger(['warn', 'error']); // GrpcContractServer says "serving gRPC on ..." otherwise

  // ficus: the serving process's bus, and the calling process's bus with a route to it
  const servingBus = new ContractBus();
  servingBus.serve(InventoryContract, trivialInventory as unknown as ContractImplementation);
  const ficusServer = new GrpcContractServer(servingBus.inProcess, { host: '127.0.0.1', port: 0 });
  ficusServer.expose(InventoryContract);
  const ficusPort = await ficusServer.listen();
  const transport = new GrpcContractTransport({ address: `127.0.0.1:${ficusPort}` });
  const callingBus = new ContractBus();
  callingBus.route(InventoryContract, transport);
  const inventory = callingBus.client(InventoryContract);

  // raw grpc-js: the generated codecs of the same method, hand-wired
  const wire = InventoryServiceDefinition.methods.checkStock;
  const method = {
    path: `/${InventoryServiceDefinition.fullName}/${wire.name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: CheckStockRequest) => Buffer.from(CheckStockRequest.encode(value).finish()),
    requestDeserialize: (bytes: Buffer) => CheckStockRequest.decode(bytes),
    responseSerialize: (value: CheckStockResponse) => Buffer.from(CheckStockResponse.encode(value).finish()),
    responseDeserialize: (bytes: Buffer) => CheckStockResponse.decode(bytes),
  };
  const rawServer = new Server();
  const checkStock: handleUnaryCall<CheckStockRequest, CheckStockResponse> = (call, callback) =>
    callback(null, levelsOf(call.request.skus));
  rawServer.addService({ checkStock: method } as ServiceDefinition, { checkStock });
  const rawPort = await new Promise<number>((resolve, reject) =>
    rawServer.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );
  const rawClient = new Client(`127.0.0.1:${rawPort}`, credentials.createInsecure());

  const ficusCall = () => {
    const ctx: CallContext = { correlationId: 'bench-grpc', deadline: Date.now() + 5_000 };
    return inventory.checkStock(ctx, REQUEST);
  };
  const rawCall = () =>
    new Promise<CheckStockResponse>((resolve, reject) =>
      rawClient.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        REQUEST,
        new Metadata(),
        { deadline: Date.now() + 5_000 },
        (error: ServiceError | null, answer?: CheckStockResponse) => (error ? reject(error) : resolve(answer!)),
      ),
    );

  try {
    const check = await ficusCall();
    const rawCheck = await rawCall();
    if (JSON.stringify(check) !== JSON.stringify(rawCheck)) {
      throw new Error(`the two paths answer differently: ${JSON.stringify(check)} vs ${JSON.stringify(rawCheck)}`);
    }
    // warm both paths up (JIT, HTTP/2 windows) before measuring
    await round(ficusCall, WARM_UP_CALLS, []);
    await round(rawCall, WARM_UP_CALLS, []);

    const ficusSamples: number[] = [];
    const rawSamples: number[] = [];
    const ficusRounds: Round[] = [];
    const rawRounds: Round[] = [];
    const result = await sideBySide(
      async () => {
        const r = await round(ficusCall, CALLS_PER_ROUND, ficusSamples);
        ficusRounds.push(r);
        return r.nsPerCall;
      },
      async () => {
        const r = await round(rawCall, CALLS_PER_ROUND, rawSamples);
        rawRounds.push(r);
        return r.nsPerCall;
      },
      ROUNDS,
    );
    const ficusCpu = median(ficusRounds.map((r) => r.cpuNsPerCall));
    const rawCpu = median(rawRounds.map((r) => r.cpuNsPerCall));
    const us = (ns: number) => Math.round(ns / 100) / 10;

    const figures = {
      method: `${InventoryContract.name}/checkStock`,
      callsPerRound: CALLS_PER_ROUND,
      rounds: ROUNDS,
      ficusUsPerCall: us(result.a),
      rawGrpcJsUsPerCall: us(result.b),
      ratio: Number(result.ratio.toFixed(3)),
      aim: '≤ 1.10',
      latencyUs: {
        ficus: { p50: us(percentile(ficusSamples, 50)), p99: us(percentile(ficusSamples, 99)) },
        rawGrpcJs: { p50: us(percentile(rawSamples, 50)), p99: us(percentile(rawSamples, 99)) },
      },
      cpuUsPerCall: { ficus: us(ficusCpu), rawGrpcJs: us(rawCpu), ratio: Number((ficusCpu / rawCpu).toFixed(3)) },
      roundsUs: { ficus: result.roundsA.map(us), rawGrpcJs: result.roundsB.map(us) },
    };
    line('(4) a contract call over gRPC on loopback: ficus client → GrpcContractServer → trivial implementation,');
    line('    vs grpc-js directly with the same generated codecs (both in this process, sequential calls)');
    line(
      `    ficus          ${figures.ficusUsPerCall} µs/call (median of ${ROUNDS} rounds × ${CALLS_PER_ROUND})   p50 ${figures.latencyUs.ficus.p50} µs   p99 ${figures.latencyUs.ficus.p99} µs`,
    );
    line(
      `    raw grpc-js    ${figures.rawGrpcJsUsPerCall} µs/call                            p50 ${figures.latencyUs.rawGrpcJs.p50} µs   p99 ${figures.latencyUs.rawGrpcJs.p99} µs`,
    );
    line(`    ratio          ${figures.ratio}×   (aim ≤ 1.10)`);
    line(
      `    CPU per call   ficus ${figures.cpuUsPerCall.ficus} µs, raw ${figures.cpuUsPerCall.rawGrpcJs} µs (client + server) → ${figures.cpuUsPerCall.ratio}×`,
    );
    writeResult('grpc', figures);
    return figures;
  } finally {
    transport.close();
    rawClient.close();
    await ficusServer.close(1_000);
    await new Promise<void>((resolve) => rawServer.tryShutdown(() => resolve()));
  }
}
