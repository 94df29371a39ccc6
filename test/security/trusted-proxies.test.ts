import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RateLimiter, type RateLimitClock } from '@apps/http-edge';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';

/** Each test in an hour of its own, so no rate-limit window carries over from another. */
class HeldClock implements RateLimitClock {
  private at = Date.UTC(2031, 0, 1);

  startFresh(): void {
    this.at += 3_600_000;
  }

  now(): Date {
    return new Date(this.at);
  }
}

const LIMITS = { FICUS_RATE_LIMIT_DEFAULT: '3/60s', FICUS_RATE_LIMIT_IDENTITY: '20/60s' };

/**
 * Behind a reverse proxy (an Ingress, a load balancer) every client reaches the edge from the
 * proxy's address. FICUS_TRUSTED_PROXIES names those proxies, and the edge then counts, throttles
 * and forwards the client their X-Forwarded-For names. Without it, no client's X-Forwarded-For is
 * believed.
 */
describe('clients behind trusted proxies', () => {
  let legacy: Server;
  const seen: IncomingMessage['headers'][] = [];
  let behindProxy: RunningShop;
  let direct: RunningShop;
  const clock = new HeldClock();

  beforeAll(async () => {
    legacy = createServer((request, response) => {
      seen.push(request.headers);
      response.setHeader('content-type', 'application/json');
      response.end('{"legacy":true}');
    });
    await new Promise<void>((resolve) => legacy.listen(0, '127.0.0.1', resolve));
    // This test's requests come from 127.0.0.1: loopback stands for the proxy.
    behindProxy = await startShop('trusted_proxies', {
      env: {
        ...LIMITS,
        FICUS_TRUSTED_PROXIES: 'loopback',
        FICUS_LEGACY_URL: `http://127.0.0.1:${(legacy.address() as AddressInfo).port}`,
      },
    });
    direct = await startShop('untrusted_proxies', { env: LIMITS });
    for (const shop of [behindProxy, direct]) shop.app.get(RateLimiter).useClock(clock);
  });
  beforeEach(() => clock.startFresh());
  afterAll(async () => {
    await behindProxy?.close();
    await direct?.close();
    await new Promise((resolve) => legacy.close(resolve));
  });

  /** `count` reads of the catalog from behind the proxy as `forwardedFor` says, their statuses. */
  async function reads(shop: RunningShop, forwardedFor: string, count = 1): Promise<number[]> {
    const client = new ShopClient(shop.baseUrl);
    const statuses: number[] = [];
    for (let n = 0; n < count; n++) {
      const answer = await client.request('GET', '/catalog/products?pageSize=1', {
        headers: { 'x-forwarded-for': forwardedFor },
      });
      statuses.push(answer.status);
    }
    return statuses;
  }

  it('counts each client the proxy names on its own', async () => {
    expect(await reads(behindProxy, '203.0.113.1', 4)).toEqual([200, 200, 200, 429]);
    expect(await reads(behindProxy, '203.0.113.2', 3)).toEqual([200, 200, 200]); // not the first one's counter
  });

  it('reads only the nearest untrusted entry: what a client writes further left buys no counter', async () => {
    const statuses: number[] = [];
    for (let n = 0; n < 4; n++) statuses.push(...(await reads(behindProxy, `198.51.100.${n}, 203.0.113.3`)));
    expect(statuses).toEqual([200, 200, 200, 429]);
    // A client's entry that names a trusted address is a trusted hop: the next one left is the client.
    expect(await reads(behindProxy, '203.0.113.3, 127.0.0.1')).toEqual([429]);
  });

  it('counts an IPv6 client by its /56 and a mapped IPv4 address as itself, whatever the spelling', async () => {
    const ipv6 = ['2001:db8:7:1::1', '2001:db8:7:2::2', '2001:DB8:7:FF:0:0:0:3', '2001:db8:7:1::4'];
    const statuses: number[] = [];
    for (const address of ipv6) statuses.push(...(await reads(behindProxy, address)));
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await reads(behindProxy, '2001:db8:7:100::1')).toEqual([200]); // another /56

    const mapped = ['203.0.113.4', '::ffff:203.0.113.4', '::ffff:cb00:7104', '203.0.113.4'];
    const mappedStatuses: number[] = [];
    for (const address of mapped) mappedStatuses.push(...(await reads(behindProxy, address)));
    expect(mappedStatuses).toEqual([200, 200, 200, 429]);
  });

  it('throttles sign-ins per account and the address the proxy names, not the proxy', async () => {
    const client = new ShopClient(behindProxy.baseUrl);
    const attempt = (address: string) =>
      client.post(
        '/identity/login',
        { email: 'nobody-behind-a-proxy@example.com', password: 'not the password' },
        { 'x-forwarded-for': address },
      );
    const statuses: number[] = [];
    for (let n = 0; n < 6; n++) statuses.push((await attempt('203.0.113.5')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]); // five per account and address
    expect((await attempt('203.0.113.6')).status).toBe(401); // another client behind the same proxy
    expect((await attempt('::ffff:203.0.113.5')).status).toBe(429); // the first, spelled otherwise
  });

  it('forwards to the legacy application the client and the hops it trusts, nothing a client wrote', async () => {
    const answer = await new ShopClient(behindProxy.baseUrl).request('GET', '/reviews/FICUS-LYRATA', {
      headers: { 'x-forwarded-for': '198.51.100.66, 203.0.113.7', 'x-real-ip': '198.51.100.67' },
    });
    expect(answer.status).toBe(200);
    const received = seen[seen.length - 1]!;
    expect(received['x-real-ip']).toBe('203.0.113.7');
    expect(received['x-forwarded-for']).toMatch(/^203\.0\.113\.7, ?(::ffff:)?127\.0\.0\.1$/);
    expect(JSON.stringify(received)).not.toMatch(/198\.51\.100\.6[67]/);
  });

  it('believes only the client address of what the proxies forward: a forged X-Forwarded-Proto or -Host changes nothing', async () => {
    const client = new ShopClient(behindProxy.baseUrl);
    for (const headers of [
      { 'x-forwarded-proto': 'x y', 'x-forwarded-host': 'evil example' },
      { 'x-forwarded-proto': 'https, javascript', 'x-forwarded-host': '[::1' },
    ]) {
      const graphql = await client.request<{ data?: { products: { total: number } } }>('POST', '/graphql', {
        body: { query: '{ products(pageSize: 1) { total } }' },
        headers: { ...headers, 'x-forwarded-for': '203.0.113.11' },
      });
      expect(graphql.status).toBe(200);
      expect(graphql.body.data?.products.total).toBe(8);
    }
  });

  it('believes no X-Forwarded-For when no proxy is trusted (the default): every spelling is one client', async () => {
    const statuses: number[] = [];
    for (const address of ['203.0.113.8', '203.0.113.9', '2001:db8:9::1', 'nonsense']) {
      statuses.push(...(await reads(direct, address)));
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});
