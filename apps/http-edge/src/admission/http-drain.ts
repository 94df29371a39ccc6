import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** How long the requests under way get once the process stops, before their connections are cut. */
export const DRAIN_GRACE_MS = 10_000;

/**
 * Lets a stopping server's keep-alive connections end. Node's `server.close()` waits for every
 * connection to close, and it keeps serving requests on connections that are open: a client that
 * keeps sending on its connection (a load balancer, any keep-alive agent) would hold the stop
 * until something killed the process. From the returned `drain()` on, every response still to be
 * written says `Connection: close` (its connection closes once it is sent) and idle connections
 * close at once. Whatever is still open `graceMs` after `drain()`, once the listener has closed
 * too (Nest closes it after the modules' destroy hooks), is cut.
 */
export function drainOnStop(server: Server, graceMs = DRAIN_GRACE_MS): () => void {
  let draining = false;
  /** Responses under way (a stream's too, until it ends). */
  const open = new Set<ServerResponse>();
  const closeAfter = (response: ServerResponse) => {
    if (!response.headersSent) response.setHeader('Connection', 'close');
  };
  // First, before the application's own listener can answer.
  server.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
    if (draining) return closeAfter(response);
    open.add(response);
    response.once('close', () => open.delete(response));
  });
  return () => {
    if (draining) return;
    draining = true;
    open.forEach(closeAfter);
    server.closeIdleConnections();
    let cut: NodeJS.Timeout;
    const cutOnceClosed = () => {
      if (server.listening) cut = setTimeout(cutOnceClosed, 1_000).unref();
      else server.closeAllConnections();
    };
    cut = setTimeout(cutOnceClosed, graceMs).unref();
    server.once('close', () => clearTimeout(cut));
  };
}
