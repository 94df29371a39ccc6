import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { boundedJsonBodies } from '@apps/http-edge';
import { eventually } from '../support/eventually';
import { RawRequest } from '../support/raw-request';

/** An express app whose JSON bodies are read under the bound of one at a time (one client: loopback). */
async function boundedServer() {
  const app = express();
  const waiting: Array<() => void> = [];
  app.use(boundedJsonBodies({ maxReading: 1, maxReadingPerClient: 1 }, { limit: '64kb', types: ['application/json'] }));
  app.get('/slow', (_request, response) => {
    waiting.push(() => response.json({ done: true }));
  });
  app.post('/echo', (request, response) => response.json({ body: request.body as unknown }));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    get slow() {
      return waiting.length;
    },
    release: () => waiting.splice(0).forEach((finish) => finish()),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the bound on bodies being read', () => {
  it('frees the place of a compressed body whose client is lost while its request waits behind another on the connection', async () => {
    const server = await boundedServer();
    const post = () =>
      fetch(`http://127.0.0.1:${server.port}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"n":1}',
      });
    try {
      expect((await post()).status).toBe(200);
      // A slow request, and pipelined behind it an order whose gzip body stops half-way: its response
      // waits for the first one's, and its body is read through an inflater.
      const gzipped = gzipSync('{"items":[{"sku":"FICUS-LYRATA","quantity":1}]}');
      const pipelined = new RawRequest(
        `http://127.0.0.1:${server.port}`,
        'GET /slow HTTP/1.1\r\nHost: bound\r\n\r\n' +
          'POST /echo HTTP/1.1\r\nHost: bound\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n' +
          `Content-Length: ${gzipped.length}\r\n\r\n`,
      );
      pipelined.write(gzipped.subarray(0, 8));
      await eventually(() => expect(server.slow).toBe(1));
      // The pipelined body holds the one place: another body is refused before it is read.
      await eventually(async () => expect((await post()).status).toBe(429));

      pipelined.destroy();
      // Lost with its client: the place is free again.
      await eventually(async () => expect((await post()).status).toBe(200));
    } finally {
      server.release();
      await server.close();
    }
  });
});
