import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/** What the proxy does to traffic; change it at any time, it applies to new chunks at once. */
export interface Faults {
  /** Added to every chunk, each way. */
  latencyMs: number;
  /** A random extra 0..jitterMs per chunk (order is kept). */
  jitterMs: number;
  /** Bytes per second each way; 0 means no cap. */
  bandwidthBytesPerSecond: number;
  /** New connections are reset at once (RST), as by a crashed peer. */
  resetNewConnections: boolean;
  /** Connections are accepted but nothing is forwarded either way: packets vanish. */
  blackhole: boolean;
  /** Requests reach the target, answers never come back: a half-open connection. */
  halfOpen: boolean;
}

const NO_FAULTS: Faults = {
  latencyMs: 0,
  jitterMs: 0,
  bandwidthBytesPerSecond: 0,
  resetNewConnections: false,
  blackhole: false,
  halfOpen: false,
};

/**
 * A small TCP fault proxy for tests (Toxiproxy cannot be installed here): put it between a
 * client and any TCP server (gRPC, Kafka, PostgreSQL, HTTP) and inject latency, jitter, a
 * bandwidth cap, resets, a blackhole or a half-open link, controlled from the test.
 */
export class FaultProxy {
  private faults: Faults = { ...NO_FAULTS };
  /** Chunks swallowed by a blackhole or a half-open link, for tests to wait on. */
  dropped = 0;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }, listenPort = 0): Promise<FaultProxy> {
    const holder: { proxy?: FaultProxy } = {}; // the server needs the proxy, the proxy the server
    const server = createServer((client) => holder.proxy?.accept(client, target));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => resolve());
    });
    holder.proxy = new FaultProxy(server, (server.address() as AddressInfo).port);
    return holder.proxy;
  }

  set(faults: Partial<Faults>): void {
    this.faults = { ...this.faults, ...faults };
  }

  heal(): void {
    this.faults = { ...NO_FAULTS };
  }

  /** Resets every open connection (RST both ways), as a network blip or a killed peer would. */
  resetAll(): void {
    for (const { client, upstream } of this.pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.pairs.clear();
  }

  get connections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    if (this.faults.resetNewConnections) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    this.forward(client, upstream, 'request');
    this.forward(upstream, client, 'answer');
  }

  /** Copies one direction chunk by chunk, in order, applying the faults in force for each chunk. */
  private forward(from: Socket, to: Socket, direction: 'request' | 'answer'): void {
    let tail = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const faults = this.faults;
      if (faults.blackhole || (faults.halfOpen && direction === 'answer')) {
        this.dropped += 1;
        return;
      }
      const transfer = faults.bandwidthBytesPerSecond > 0 ? (chunk.length / faults.bandwidthBytesPerSecond) * 1_000 : 0;
      const delay = faults.latencyMs + Math.random() * faults.jitterMs + transfer;
      tail = tail.then(async () => {
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        if (!to.destroyed) to.write(chunk);
      });
    });
  }
}
