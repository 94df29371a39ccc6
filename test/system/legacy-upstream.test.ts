import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '../support/eventually';
import { RawRequest } from '../support/raw-request';
import { startShop, type RunningShop } from '../support/shop';

interface SeenRequest {
  method: string;
  url: string;
  body: string;
  headers: IncomingMessage['headers'];
}

/**
 * The strangler fig's first step: ficus in front of the application it replaces. Routes ficus
 * serves are its own; everything else — unknown paths and methods, and prefixes configured as not
 * moved yet — goes to the legacy application with its method, path, query, headers and body.
 */
describe('the edge in front of a legacy application', () => {
  let legacy: Server;
  let shop: RunningShop;
  const seen: SeenRequest[] = [];
  let arrived = 0; // requests whose headers reached the legacy application
  let cut = 0; // requests whose client (the edge) went away before the legacy application answered

  beforeAll(async () => {
    legacy = createServer((request, response) => {
      arrived += 1;
      response.on('close', () => {
        if (!response.writableFinished) cut += 1;
      });
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({ method: request.method!, url: request.url!, body, headers: request.headers });
        response.setHeader('content-type', 'application/json');
        response.setHeader('x-served-by', 'legacy-shop');
        response.statusCode = request.url?.startsWith('/missing') ? 404 : 200;
        response.end(JSON.stringify({ legacy: true, method: request.method, url: request.url }));
      });
    });
    await new Promise<void>((resolve) => legacy.listen(0, '127.0.0.1', resolve));
    shop = await startShop('legacy_upstream', {
      env: {
        FICUS_LEGACY_URL: `http://127.0.0.1:${(legacy.address() as AddressInfo).port}`,
        FICUS_LEGACY_ROUTES: '/notifications',
        FICUS_PUBLIC_URL: 'https://shop.example.com',
        // A small gate, so that a few requests to the legacy application could fill it.
        FICUS_HTTP_MAX_CONCURRENT: '2',
        FICUS_HTTP_MAX_QUEUED: '2',
        // Longer than any wait below: a slot held for the budget after its client left would show.
        FICUS_REQUEST_BUDGET_MS: '120000',
      },
    });
  });
  afterAll(async () => {
    await shop?.close();
    await new Promise((resolve) => legacy.close(resolve));
  });

  const lastSeen = () => seen[seen.length - 1];

  it('serves its own routes itself', async () => {
    const before = seen.length;
    const response = await fetch(`${shop.baseUrl}/catalog/products?page=1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ficus-upstream')).toBeNull();
    expect(((await response.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);
    expect(seen.length).toBe(before);
  });

  it('proxies a route ficus does not have, with its query, headers and body', async () => {
    const response = await fetch(`${shop.baseUrl}/reviews/FICUS-LYRATA?sort=new`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'legacy-req-1',
        authorization: 'Bearer legacy-session',
      },
      body: JSON.stringify({ stars: 5, text: 'grows fast — ünïcode kept' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-served-by')).toBe('legacy-shop');
    expect(response.headers.get('x-ficus-upstream')).toBe('legacy');
    expect(lastSeen()).toMatchObject({
      method: 'POST',
      url: '/reviews/FICUS-LYRATA?sort=new',
      body: JSON.stringify({ stars: 5, text: 'grows fast — ünïcode kept' }),
    });
    expect(lastSeen().headers).toMatchObject({
      'x-request-id': 'legacy-req-1',
      authorization: 'Bearer legacy-session',
    });
    expect(lastSeen().headers['x-forwarded-for']).toBeDefined();
  });

  it("passes a legacy route's long query string on as sent; ficus's own routes take at most 100 parameters", async () => {
    const brands = Array.from({ length: 150 }, (_, i) => `brand=b${i}`).join('&');
    const response = await fetch(`${shop.baseUrl}/search?${brands}`);
    expect(response.headers.get('x-ficus-upstream')).toBe('legacy');
    expect(lastSeen().url).toBe(`/search?${brands}`);
    const ours = await fetch(`${shop.baseUrl}/catalog/products?${brands}`);
    expect([ours.status, ((await ours.json()) as { code: string }).code]).toEqual([400, 'too-many-parameters']);
  });

  it('passes the legacy application no client address a client claims, under any name: only the ones the edge sets', async () => {
    const spoofed = '203.0.113.9';
    const claims = [
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded',
      'forwarded',
      'x-real-ip',
      'x-client-ip',
      'client-ip',
      'true-client-ip',
      'cf-connecting-ip',
      'fastly-client-ip',
      'x-cluster-client-ip',
      'x-original-forwarded-for',
      'x_forwarded_for', // CGI-style servers read underscores as dashes
      'client_ip',
      'fly-client-ip', // and the platforms' own names
      'x-azure-clientip',
      'x-azure-socketip',
      'cf-connecting-ipv6',
      'cf-pseudo-ipv4',
      'x-appengine-user-ip',
    ];
    const headers = Object.fromEntries(
      claims.map((name) => [
        name,
        name === 'forwarded' ? `for=${spoofed}` : name === 'x-forwarded-host' ? 'evil.example' : spoofed,
      ]),
    );
    const response = await fetch(`${shop.baseUrl}/reviews/FICUS-LYRATA`, {
      headers: { ...headers, 'x-custom': 'kept' },
    });
    expect(response.status).toBe(200);
    const received = lastSeen().headers;
    expect(JSON.stringify(received)).not.toContain(spoofed);
    expect(JSON.stringify(received)).not.toContain('evil.example');
    expect(received['x-custom']).toBe('kept'); // a header that claims no address goes through
    expect(received['x-forwarded-for']).toMatch(/127\.0\.0\.1/); // the edge's own view of the client
    expect(received['x-real-ip']).toMatch(/127\.0\.0\.1/);
  });

  it("tells the legacy application the shop's public address (FICUS_PUBLIC_URL), never one a client names", async () => {
    // A legacy application builds absolute links (a password-reset email, a redirect) from
    // X-Forwarded-Host and -Proto: the client's Host header there would let anyone point them at
    // their own site, and a TLS proxy in front would read as plain http.
    const answered = await new Promise<number>((resolve, reject) => {
      const sent = request(
        {
          host: '127.0.0.1',
          port: Number(new URL(shop.baseUrl).port),
          path: '/account/password-reset',
          headers: { host: 'evil.example:8443', 'x-forwarded-proto': 'javascript', 'x-forwarded-port': '8443' },
        },
        (answer) => {
          answer.resume();
          answer.on('end', () => resolve(answer.statusCode!));
        },
      );
      sent.on('error', reject);
      sent.end();
    });
    expect(answered).toBe(200);
    const received = lastSeen().headers;
    expect(lastSeen().url).toBe('/account/password-reset');
    expect([received['x-forwarded-host'], received['x-forwarded-proto'], received['x-forwarded-port']]).toEqual([
      'shop.example.com',
      'https',
      '443',
    ]);
    expect(JSON.stringify(received)).not.toContain('evil.example');
    expect(JSON.stringify(received)).not.toContain('javascript');
    expect(JSON.stringify(received)).not.toContain('8443');
  });

  it('passes on no header that would make the request another one behind the edge: method overrides, rewritten paths, hop-by-hop headers', async () => {
    // Written by hand: fetch refuses to send Connection, Keep-Alive and TE itself.
    const raw = new RawRequest(
      shop.baseUrl,
      'GET /reviews/FICUS-LYRATA HTTP/1.1\r\nHost: shop\r\n' +
        'X-HTTP-Method-Override: DELETE\r\nX-HTTP-Method: DELETE\r\nX-Method-Override: DELETE\r\n' +
        'X-Original-URL: /admin/users\r\nX-Rewrite-URL: /admin/users\r\n' +
        // A hop in front of the legacy application would drop what Connection names: X-Real-IP here.
        'Connection: keep-alive, x-real-ip, x-custom-hop\r\nX-Custom-Hop: only this hop\r\n' +
        'Keep-Alive: timeout=5\r\nTE: trailers\r\nX-Custom: kept\r\n\r\n',
    );
    try {
      await eventually(() => raw.status, { until: (status) => status !== undefined, what: 'an answer' });
      expect(raw.status).toBe('200');
    } finally {
      raw.destroy();
    }
    const received = lastSeen().headers;
    const names = Object.keys(received);
    for (const name of ['x-http-method-override', 'x-http-method', 'x-method-override', 'x-original-url']) {
      expect(names).not.toContain(name);
    }
    for (const name of ['x-rewrite-url', 'x-custom-hop', 'keep-alive', 'te', 'upgrade'])
      expect(names).not.toContain(name);
    expect(received.connection ?? 'close').not.toMatch(/x-real-ip|x-custom-hop/i);
    expect(received['x-real-ip']).toMatch(/127\.0\.0\.1/);
    expect(received['x-custom']).toBe('kept');
    expect(lastSeen()).toMatchObject({ method: 'GET', url: '/reviews/FICUS-LYRATA' });
  });

  it('proxies a method ficus does not serve on a path it does', async () => {
    const response = await fetch(`${shop.baseUrl}/catalog/products/FICUS-LYRATA`, { method: 'DELETE' });
    expect(response.status).toBe(200);
    expect(lastSeen()).toMatchObject({ method: 'DELETE', url: '/catalog/products/FICUS-LYRATA' });
  });

  it('proxies a prefix configured as not moved yet, although ficus has the route', async () => {
    const response = await fetch(`${shop.baseUrl}/notifications`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ legacy: true, url: '/notifications' });
  });

  it("passes the legacy application's own answers through, errors included", async () => {
    const response = await fetch(`${shop.baseUrl}/missing/page`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ legacy: true });
  });

  it("holds requests to the legacy application in a gate of their own: bodies dripped to it leave ficus's routes their slots", async () => {
    const body = JSON.stringify({ stars: 4, text: 'slow' });
    // As many as the gate admits and queues (2 + 2), each with all but the last byte of its body;
    // each asks to continue, so the edge's "100 Continue" shows that it has the request in hand.
    const arrivedBefore = arrived;
    const dripping = Array.from(
      { length: 4 },
      (_, n) =>
        new RawRequest(
          shop.baseUrl,
          `POST /reviews/drip-${n} HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
        ),
    );
    try {
      for (const request of dripping) await request.continued();
      for (const request of dripping) request.write(body.slice(0, -1));
      // Two reach the legacy application, their bodies under way; two wait for a slot of its gate.
      await eventually(() => expect(arrived - arrivedBefore).toBe(2));
      expect(dripping.map((request) => request.status)).toEqual(dripping.map(() => undefined));
      const own = await fetch(`${shop.baseUrl}/catalog/products?page=1`);
      expect(own.status).toBe(200);
      for (const request of dripping) request.write(body.slice(-1));
      const statuses = await eventually(() => dripping.map((request) => request.status), {
        until: (answered) => answered.every(Boolean),
      });
      expect(statuses).toEqual(['200', '200', '200', '200']);
      expect(seen.filter((request) => request.url.startsWith('/reviews/drip-')).map((request) => request.body)).toEqual(
        dripping.map(() => body),
      );
    } finally {
      for (const request of dripping) request.destroy();
    }
  });

  it('frees a slot of the legacy gate as soon as its client leaves: clients that send headers and go hold none', async () => {
    const [arrivedBefore, cutBefore] = [arrived, cut];
    // As many as the gate admits, each with a body announced and never sent, then gone.
    const leaving = Array.from(
      { length: 2 },
      (_, n) =>
        new RawRequest(
          shop.baseUrl,
          `POST /reviews/gone-${n} HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n` +
            'Content-Length: 100\r\n\r\n{',
        ),
    );
    await eventually(() => expect(arrived - arrivedBefore).toBe(2)); // both hold a slot
    for (const request of leaving) request.destroy();
    // The edge cut both calls to the legacy application: nothing of them is left under way.
    await eventually(() => expect(cut - cutBefore).toBe(2));
    // Four at once against a gate of 2 + 2 queued: a slot still held would queue two of them for
    // the whole budget (two minutes here) and refuse the others (503).
    const statuses = await eventually(
      () =>
        Promise.all(
          [0, 1, 2, 3].map((n) =>
            fetch(`${shop.baseUrl}/reviews/after-${n}`, { signal: AbortSignal.timeout(5_000) }).then(
              (answer) => answer.status,
              () => 'no answer',
            ),
          ),
        ),
      { until: (answers) => answers.every((status) => status === 200), what: 'four requests through the legacy gate' },
    );
    expect(statuses).toEqual([200, 200, 200, 200]);
  });

  it('answers 502 with a problem body when the legacy application is down, and keeps serving its own routes', async () => {
    await new Promise((resolve) => legacy.close(resolve));
    legacy.closeAllConnections();
    const response = await fetch(`${shop.baseUrl}/reviews/FICUS-LYRATA`);
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 502, code: 'legacy-upstream-unavailable' });
    expect((await fetch(`${shop.baseUrl}/catalog/products`)).status).toBe(200);
  });
});
