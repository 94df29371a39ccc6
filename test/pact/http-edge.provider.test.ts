import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { startShop, type RunningShop } from '../support/shop';
import { fieldDroppingProxy, listenInPactRange, listenServer } from './support/http-servers';
import { committedPactsOf, HTTP_EDGE } from './support/pact-files';
import { ShopClient } from '../support/http-client';
import { ShopWebClient } from './support/shop-web.client';
import { PASSWORD, SHOP_STATES } from './support/shop-web.states';
import { verifyPacts } from './support/verify';

/**
 * The HTTP edge verifies every consumer's HTTP pact against the real shop: the monolith on a fresh
 * embedded-PostgreSQL database, listening on a port of its own. State handlers make the data each
 * interaction needs through the public API itself (a new email, a registered customer, a signed-in
 * customer, a placed order); the request filter swaps the pact's example bearer token for the
 * token of the customer the state signed in.
 */

let shop: RunningShop | undefined;
let baseUrl = '';
let token = '';

beforeAll(async () => {
  await listenInPactRange(async (port) => (shop = await startShop('pact_http_edge', { port })));
  baseUrl = shop!.baseUrl;
});

afterAll(async () => {
  await shop?.close();
});

const newEmail = () => `shop-web-${randomUUID().slice(0, 12)}@example.com`;

async function signedIn(): Promise<ShopWebClient> {
  const shop = new ShopWebClient(baseUrl);
  const email = newEmail();
  await new ShopClient(baseUrl).signUp(email, PASSWORD); // registers and confirms the mailbox, as a customer would
  token = await shop.signIn(email, PASSWORD);
  return shop;
}

const stateHandlers = {
  [SHOP_STATES.catalogue]: async () => {
    const page = await new ShopWebClient(baseUrl).products(1);
    if (page.total === 0) throw new Error('the demo catalogue is empty');
    return undefined;
  },
  [SHOP_STATES.newEmail]: async () => ({ email: newEmail() }),
  [SHOP_STATES.registered]: async () => {
    const email = newEmail();
    await new ShopClient(baseUrl).signUp(email, PASSWORD);
    return { email };
  },
  [SHOP_STATES.signedIn]: async () => {
    await signedIn();
    return undefined;
  },
  [SHOP_STATES.withOrder]: async () => {
    const shop = await signedIn();
    const { orderId } = await shop.placeOrder(token, [{ sku: 'FICUS-LYRATA', quantity: 1 }], 'tok_visa');
    return { orderId };
  },
};

/** The pact's example bearer token stands for "the signed-in customer": the one the state made. */
const requestFilter = (req: { headers: Record<string, unknown> }, _res: unknown, next: () => void) => {
  if (req.headers.authorization) req.headers.authorization = `Bearer ${token}`;
  next();
};

describe('ficus-http-edge verifies the pacts of its consumers', () => {
  it('every interaction of every committed HTTP pact passes against the running shop', async () => {
    const pactUrls = committedPactsOf(HTTP_EDGE);
    expect(pactUrls.length).toBeGreaterThan(0);
    await expect(
      verifyPacts({ provider: HTTP_EDGE, providerBaseUrl: baseUrl, pactUrls, stateHandlers, requestFilter }),
    ).resolves.toBeTruthy();
  });
});

describe('a planted break: the edge stops returning a field shop-web reads', () => {
  let broken: Server;
  let brokenUrl = '';

  beforeAll(async () => {
    broken = fieldDroppingProxy(baseUrl, { path: /^\/orders\/[^/]+$/, field: 'status' });
    brokenUrl = `http://127.0.0.1:${await listenServer(broken)}`;
  });
  afterAll(() => new Promise<void>((resolve) => (broken ? broken.close(() => resolve()) : resolve())));

  it('GET /orders/:id without "status" fails the verification, naming the field', async () => {
    const verification = verifyPacts({
      provider: HTTP_EDGE,
      providerBaseUrl: brokenUrl,
      pactUrls: committedPactsOf(HTTP_EDGE),
      stateHandlers,
      requestFilter,
    });
    await expect(verification).rejects.toThrow(/missing the following keys: status/);
  });
});
