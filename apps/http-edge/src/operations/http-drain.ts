import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** How long the requests under way get once the process stops, before their connections are cut. */
export const DRAIN_GRACE_MS = 10_000;

/**
 * Lets a stopping server's keep-alive connections end. Node's `server.close()` waits for every
 * connection to close, and a client that keeps sending on its connection (a load balancer, any
 * keep-alive agent) never lets one close: the stop would wait until something killed the process.
 * From the returned `drain()` on, every response still to be written says `Connection: close`
 * (so its connection closes once it is sent), idle connections close at once, and whatever is
 * still open after `graceMs` is cut.
 */
export function drainOnStop(server: Server, graceMs = DRAIN_GRACE_MS): () => void {
  let draining = false;
  const unwritten = new Set<ServerResponse>();
  const closeAfter = (response: ServerResponse) => {
    if (!response.headersSent) response.setHeader('Connection', 'close');
  };
  // First, before the application's own listener can answer.
  server.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
    if (draining) return closeAfter(response);
    unwritten.add(response);
    response.once('close', () => unwritten.delete(response));
  });
  return () => {
    if (draining) return;
    draining = true;
    unwritten.forEach(closeAfter);
    server.closeIdleConnections();
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    cut.unref();
    server.once('close', () => clearTimeout(cut));
  };
}
