import { readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { basename, join } from 'node:path';

/**
 * Does something accept TCP connections on host:port? A plain connect, so that asking about a
 * port where nothing listens prints nothing (a client library's probe would log its refusals).
 */
export function acceptsConnections(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket = createConnection({ host, port, timeout: timeoutMs });
    const settle = (open: boolean) => {
      socket.destroy();
      resolveAnswer(open);
    };
    socket.once('connect', () => settle(true));
    socket.once('error', () => settle(false));
    socket.once('timeout', () => settle(false));
  });
}

/**
 * A TCP port on loopback that nothing holds now (the kernel's choice, bound and released at once):
 * for throwaway servers of tests and benchmarks, which then never meet a fixed port that something
 * else on a shared machine happens to hold.
 */
export async function freeLoopbackPort(): Promise<number> {
  const [port] = await freeLoopbackPorts(1);
  return port;
}

/**
 * `count` different free ports: all bound at once before any is released. Asked for one at a
 * time, the kernel may give a port it has just taken back a second time (a topology once got one
 * port for two of its listeners).
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const bound = await Promise.allSettled(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolveServer, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolveServer(server));
        }),
    ),
  );
  const servers = bound.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  // Every one bound is released, whether or not all could be.
  await Promise.all(servers.map((server) => new Promise((closed) => server.close(closed))));
  const failed = bound.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return ports;
}

/**
 * The port the environment variable `setting` names, or else a free one on loopback: a throwaway
 * server's port, fixed only when someone asks for it.
 */
export async function configuredOrFreePort(setting: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const configured = env[setting];
  if (!configured) return freeLoopbackPort();
  const port = Number(configured);
  if (!/^\d+$/.test(configured.trim()) || port < 1 || port > 65_535) {
    throw new Error(`${setting}=${configured} is not a port number (1 to 65535)`);
  }
  return port;
}

/**
 * A copy of a topology file, written into `dir`, with every listener's port (`port:` and the
 * edge's `operationsPort:`) replaced by a free one; nothing else of the file changes. For tests
 * and benchmarks that launch a shipped topology: its fixed ports (3000, 4000, 3101…, 7051…) are
 * the ones a developer's `npm start` or `npm run start:split` holds while they run.
 */
export async function topologyOnFreePorts(topologyPath: string, dir: string): Promise<string> {
  const text = readFileSync(topologyPath, 'utf8');
  const listener = /\b(port|operationsPort): \d+/g;
  const ports = await freeLoopbackPorts(Array.from(text.matchAll(listener)).length);
  let i = 0;
  const file = join(dir, basename(topologyPath));
  writeFileSync(
    file,
    text.replace(listener, (_match, key: string) => `${key}: ${ports[i++]}`),
  );
  return file;
}
