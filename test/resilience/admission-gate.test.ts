import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { admissionGate, OPERATIONS_PROBES } from '@apps/http-edge';
import { eventually } from '../support/eventually';
import { RawRequest } from '../support/raw-request';

/** An express app behind the gate whose /work requests finish only when the test lets them. */
async function gatedServer(
  limits: { maxConcurrent: number; maxQueued: number },
  abortedHoldMs = 10_000,
  probes?: readonly string[],
) {
  const app = express();
  const waiting: Array<() => void> = [];
  let started = 0;
  const gate = admissionGate({ ...limits, abortedHoldMs }, probes);
  app.use(gate.shedWhileFull, express.json(), gate.admit); // as the edge has them: the body in between
  app.get('/work', (_request, response) => {
    started += 1;
    waiting.push(() => response.json({ done: true }));
  });
  app.get('/quick', (_request, response) => response.json({ done: true }));
  app.get('/health', (_request, response) => response.json({ status: 'ok' }));
  // Whatever reaches these answers at once: what the gate let through shows in the status.
  app.all(['/health/*rest', '/ready', '/metrics'], (_request, response) => response.json({ reached: true }));
  app.post('/health', (_request, response) => response.json({ reached: true }));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    get started() {
      return started;
    },
    release: () => waiting.splice(0).forEach((finish) => finish()),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('admission control at the edge', () => {
  it('serves 2 at once, queues 2, and sheds the rest at once with 503, Retry-After and a problem body', async () => {
    const server = await gatedServer({ maxConcurrent: 2, maxQueued: 2 });
    try {
      const answers = Array.from({ length: 6 }, () => fetch(`${server.base}/work`));
      // The two shed requests answer while the four others are still held.
      const settled = await Promise.race([Promise.all(answers), new Promise((r) => setImmediate(r, 'pending'))]);
      expect(settled).toBe('pending');

      await eventually(() => expect(server.started).toBe(2));
      const health = await fetch(`${server.base}/health`);
      expect(health.status).toBe(200); // probes pass the gate even when it is full

      server.release(); // the first two finish; the two queued start
      await eventually(() => expect(server.started).toBe(4));
      server.release();

      const responses = await Promise.all(answers);
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 200, 200, 503, 503]);
      const shed = responses.find((r) => r.status === 503)!;
      expect(shed.headers.get('retry-after')).toBe('1');
      expect(shed.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(await shed.json()).toMatchObject({ status: 503, code: 'overloaded', instance: '/work' });
    } finally {
      server.release();
      await server.close();
    }
  });

  it('lets through exactly the probes of its port, by GET or HEAD: no path under them, no other method, no other port’s probe', async () => {
    for (const [probes, admitted] of [
      [undefined, ['GET /health', 'HEAD /health']], // the public API's port: its liveness answer only
      [OPERATIONS_PROBES, ['GET /health', 'HEAD /health', 'GET /ready', 'HEAD /ready', 'GET /metrics']], // a service's one port
    ] as const) {
      const server = await gatedServer({ maxConcurrent: 1, maxQueued: 0 }, 10_000, probes);
      try {
        const held = fetch(`${server.base}/work`);
        await eventually(() => expect(server.started).toBe(1)); // full: anything gated is shed now
        const tried = [
          'GET /health',
          'HEAD /health',
          'GET /ready',
          'HEAD /ready',
          'GET /metrics',
          'GET /health/deep',
          'GET /health/',
          'POST /health',
        ];
        const passed: string[] = [];
        for (const attempt of tried) {
          const [method, path] = attempt.split(' ');
          const answer = await fetch(`${server.base}${path}`, { method });
          expect([200, 404, 503]).toContain(answer.status);
          if (answer.status !== 503) passed.push(attempt);
        }
        expect(passed.sort()).toEqual([...admitted].sort());
        server.release();
        expect((await held).status).toBe(200);
      } finally {
        server.release();
        await server.close();
      }
    }
  });

  it('while full, sheds a request before its body is read; until then, the body comes first', async () => {
    const server = await gatedServer({ maxConcurrent: 1, maxQueued: 0 });
    // Headers of a JSON body that never comes; "100 Continue" shows that the server has them.
    const ask = async () => {
      const request = new RawRequest(
        server.base,
        'POST /work HTTP/1.1\r\nHost: gate\r\nContent-Type: application/json\r\nContent-Length: 64\r\n' +
          'Expect: 100-continue\r\n\r\n',
      );
      await request.continued();
      return request;
    };
    const early = await ask(); // the gate is free: it waits for its body, holding no slot
    try {
      const held = fetch(`${server.base}/work`);
      await eventually(() => expect(server.started).toBe(1));
      const late = await ask();
      try {
        await eventually(() => late.status, { until: (status) => status !== undefined });
        expect(late.status).toBe('503');
        expect(late.received).toMatch(/retry-after: 1/i);
      } finally {
        late.destroy();
      }
      expect(early.status).toBeUndefined();
      server.release();
      expect((await held).status).toBe(200);
    } finally {
      early.destroy();
      server.release();
      await server.close();
    }
  });

  it('admits again once the load is gone', async () => {
    const server = await gatedServer({ maxConcurrent: 1, maxQueued: 0 });
    try {
      const first = fetch(`${server.base}/work`);
      await eventually(() => expect(server.started).toBe(1));
      expect((await fetch(`${server.base}/work`)).status).toBe(503);
      server.release();
      expect((await first).status).toBe(200);

      const again = fetch(`${server.base}/work`);
      await eventually(() => expect(server.started).toBe(2));
      server.release();
      expect((await again).status).toBe(200);
    } finally {
      server.release();
      await server.close();
    }
  });

  it('frees the slot of a request whose client left on a path that never answers, after abortedHoldMs', async () => {
    const server = await gatedServer({ maxConcurrent: 1, maxQueued: 0 }, 100);
    try {
      const abandoned = httpRequest(`${server.base}/work`).on('error', () => undefined);
      abandoned.end();
      await eventually(() => expect(server.started).toBe(1));
      abandoned.destroy(); // and /work never answers it
      await eventually(async () => expect((await fetch(`${server.base}/quick`)).status).toBe(200));
    } finally {
      server.release();
      await server.close();
    }
  });
});
