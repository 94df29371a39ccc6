import { createConnection } from 'node:net';

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
