import { createServer, type Server } from 'node:http';

/**
 * The HTTP servers of the pact tests listen on 127.0.0.1 in 3400–3499, a range no other suite
 * uses, taking the first port that is free.
 */
export const PACT_PORTS = { first: 3400, last: 3499 } as const;

export async function listenInPactRange(listen: (port: number) => Promise<unknown>): Promise<number> {
  let lastError: unknown;
  for (let port = PACT_PORTS.first; port <= PACT_PORTS.last; port += 1) {
    try {
      await listen(port);
      return port;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      lastError = error;
    }
  }
  throw new Error(`no free port in ${PACT_PORTS.first}-${PACT_PORTS.last}: ${String(lastError)}`);
}

/** Starts `server` on the first free port of the range. */
export function listenServer(server: Server): Promise<number> {
  return listenInPactRange(
    (port) =>
      new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        server.once('error', onError);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', onError);
          resolve();
        });
      }),
  );
}

/**
 * A deliberately broken HTTP provider for the planted-break test: a proxy in front of the real
 * edge that drops one field from the JSON answers of the matching paths, as a controller that
 * stopped returning it would.
 */
export function fieldDroppingProxy(target: string, drop: { path: RegExp; field: string }): Server {
  return createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([name]) => !['host', 'content-length', 'connection'].includes(name)),
    ) as Record<string, string>;
    const answer = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers,
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    });
    let body = Buffer.from(await answer.arrayBuffer());
    const path = (req.url ?? '').split('?')[0];
    if (drop.path.test(path) && answer.headers.get('content-type')?.startsWith('application/json')) {
      const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      delete json[drop.field];
      body = Buffer.from(JSON.stringify(json));
    }
    res.writeHead(answer.status, {
      'content-type': answer.headers.get('content-type') ?? 'text/plain',
      'content-length': body.length,
    });
    res.end(body);
  });
}
