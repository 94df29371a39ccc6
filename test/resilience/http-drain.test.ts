import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { drainOnStop } from '@apps/http-edge';

/** GET / over `agent`: the status, the Connection header and the client's port, or the error that ended it. */
function get(
  port: number,
  agent: Agent,
  path = '/',
): Promise<{ status: number; connection?: string; socket: number } | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      const socket = res.socket.localPort!;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, socket }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end();
  });
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const closed = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('a stopping HTTP server (drainOnStop)', () => {
  it('closes while keep-alive clients keep sending: the answer under way and every later one say Connection: close', async () => {
    let answered = 0;
    let releaseSlow = () => {};
    let slowCameIn!: () => void;
    const slowArrived = new Promise<void>((resolve) => (slowCameIn = resolve));
    const { server, port } = await listen((req, res) => {
      if (req.url === '/slow') {
        releaseSlow = () => res.end('slow');
        return slowCameIn();
      }
      setTimeout(() => res.end(String(++answered)), Math.random() * 20); // answers in flight at any moment
    });
    const drain = drainOnStop(server);
    const agent = new Agent({ keepAlive: true, maxSockets: 5 });
    const answers: Array<Awaited<ReturnType<typeof get>>> = [];
    let sending = true;
    const clients = Array.from({ length: 4 }, async () => {
      while (sending) answers.push(await get(port, agent));
    });
    while (answered < 20) await new Promise((resolve) => setImmediate(resolve));
    // One answer surely under way when the stop begins.
    const slow = get(port, agent, '/slow');
    await slowArrived;

    drain();
    const closing = closed(server); // without the drain, this waits as long as the clients send
    releaseSlow();
    expect(await slow).toMatchObject({ status: 200, connection: 'close' });
    await closing;
    sending = false;
    await Promise.all(clients);
    agent.destroy();

    const statuses = answers.filter((a) => 'status' in a);
    expect(statuses.every((a) => a.status === 200)).toBe(true);
    // The others were refused once the listener had closed, or met an idle connection closing.
    expect(answers.filter((a) => 'error' in a && !['ECONNREFUSED', 'ECONNRESET'].includes(a.error))).toEqual([]);
    // Connection by connection: answers kept it open until one asked it to close, the last.
    const bySocket = new Map<number, typeof statuses>();
    for (const a of statuses) bySocket.set(a.socket, [...(bySocket.get(a.socket) ?? []), a]);
    for (const answersOnSocket of bySocket.values()) {
      const closingAt = answersOnSocket.findIndex((a) => a.connection === 'close');
      if (closingAt >= 0) expect(closingAt).toBe(answersOnSocket.length - 1);
    }
    expect(statuses.filter((a) => a.connection === 'keep-alive').length).toBeGreaterThanOrEqual(16);
  });

  it('cuts what is still open once the grace period is over', async () => {
    const { server, port } = await listen(() => undefined); // never answers
    const drain = drainOnStop(server, 200);
    const agent = new Agent({ keepAlive: true });
    const hanging = get(port, agent);
    await new Promise<void>((resolve) => server.once('request', () => resolve()));

    drain();
    await closed(server);
    expect(await hanging).toEqual({ error: 'ECONNRESET' });
    agent.destroy();
  });
});
