import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { eventually } from '../support/eventually';
import { FaultProxy } from '../support/fault-proxy';

/** The fault proxy itself, against an echo server: each fault does what it says, and only that. */
describe('the TCP fault proxy', () => {
  let echo: Server;
  let echoPort: number;
  let proxy: FaultProxy;
  const echoed: string[] = [];

  beforeAll(async () => {
    echo = createServer((socket) => {
      socket.on('error', () => undefined); // resets are what some tests cause
      socket.on('data', (chunk) => (echoed.push(chunk.toString()), socket.write(chunk)));
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
    echoPort = (echo.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));
  beforeEach(async () => {
    echoed.length = 0;
    proxy = await FaultProxy.start({ host: '127.0.0.1', port: echoPort });
  });
  afterEach(() => proxy.close());

  const open = (port: number) =>
    new Promise<{ socket: Socket; received: string[]; closed: { error?: string } }>((resolve) => {
      const received: string[] = [];
      const closed: { error?: string } = {};
      const socket = connect(port, '127.0.0.1', () => resolve({ socket, received, closed }));
      socket.on('data', (chunk) => received.push(chunk.toString()));
      socket.on('error', (error: NodeJS.ErrnoException) => {
        closed.error = error.code;
        resolve({ socket, received, closed }); // a reset may come before (or instead of) connect
      });
      socket.on('close', () => (closed.error ??= 'closed'));
    });

  it('passes traffic through untouched when healed', async () => {
    const { socket, received } = await open(proxy.port);
    socket.write('fig');
    await eventually(() => received.join(''), { until: (text) => text === 'fig' });
    socket.destroy();
  });

  it('delays traffic: a direct message sent after a proxied one arrives first', async () => {
    proxy.set({ latencyMs: 300 });
    const proxied = await open(proxy.port);
    const direct = await open(echoPort);
    const arrivals: string[] = [];
    proxied.socket.on('data', () => arrivals.push('proxied'));
    direct.socket.on('data', () => arrivals.push('direct'));
    proxied.socket.write('slow');
    direct.socket.write('fast');
    await eventually(() => arrivals, { until: (a) => a.length === 2 });
    expect(arrivals).toEqual(['direct', 'proxied']);
    proxied.socket.destroy();
    direct.socket.destroy();
  });

  it('caps bandwidth: a large message sent first arrives after a small direct one', async () => {
    proxy.set({ bandwidthBytesPerSecond: 200_000 });
    const proxied = await open(proxy.port);
    const direct = await open(echoPort);
    const arrivals: string[] = [];
    proxied.socket.on('data', () => arrivals.push('proxied'));
    direct.socket.on('data', () => arrivals.push('direct'));
    proxied.socket.write('x'.repeat(100_000));
    direct.socket.write('y');
    await eventually(() => proxied.received.join('').length, { until: (n) => n === 100_000 });
    expect(arrivals[0]).toBe('direct');
    proxied.socket.destroy();
    direct.socket.destroy();
  });

  it('resets new connections when told to', async () => {
    proxy.set({ resetNewConnections: true });
    const { closed } = await open(proxy.port);
    await eventually(() => closed.error, { until: (e) => e !== undefined });
    expect(closed.error).toBe('ECONNRESET');
  });

  it('resets open connections on demand', async () => {
    const { socket, closed } = await open(proxy.port);
    await eventually(() => proxy.connections, { until: (n) => n === 1 });
    proxy.resetAll();
    await eventually(() => closed.error, { until: (e) => e !== undefined });
    expect(socket.destroyed).toBe(true);
  });

  it('a blackhole swallows requests: the target never sees them', async () => {
    proxy.set({ blackhole: true });
    const { socket } = await open(proxy.port);
    socket.write('lost');
    await eventually(() => proxy.dropped, { until: (n) => n === 1 });
    proxy.heal();
    socket.write('found');
    await eventually(() => echoed.join(''), { until: (text) => text === 'found' });
    expect(echoed).toEqual(['found']);
    socket.destroy();
  });

  it('half-open: requests reach the target, answers never come back', async () => {
    proxy.set({ halfOpen: true });
    const { socket, received } = await open(proxy.port);
    socket.write('ping');
    await eventually(() => proxy.dropped, { until: (n) => n === 1, what: 'the answer was dropped' });
    expect(echoed).toEqual(['ping']);
    proxy.heal();
    socket.write('pong');
    await eventually(() => received.join(''), { until: (text) => text === 'pong' });
    expect(received).toEqual(['pong']);
    socket.destroy();
  });
});
