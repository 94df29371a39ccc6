import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';

/**
 * Issue 15, item 7, the answers' half (the logs' half: test/observability/logs.test.ts): a token
 * sent as `?access_token=` was echoed back in the problem's `instance`. No answer carries a query
 * string back, whatever the status.
 */
describe('secrets in a query string (monolith)', () => {
  let shop: RunningShop;
  let customer: ShopClient;
  beforeAll(async () => {
    shop = await startShop('query_secrets');
    customer = await new ShopClient(shop.baseUrl).signUp();
  });
  afterAll(() => shop?.close());

  const SECRET = 'eyJhbGciOiJFUzI1NiJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl';

  it.each([
    ['a missing order, signed in', '/orders/6f1c1d1e-0000-4000-8000-00000000abcd', true, 404],
    ['a route that needs a token, sent none', '/customers/me/orders', false, 401],
    ['no route at all', '/no-such-route', false, 404],
    ['a malformed order id', '/orders/not-an-id', true, 400],
  ])('%s: the problem names the path alone', async (_what, path, signedIn, status) => {
    const client = signedIn ? customer : new ShopClient(shop.baseUrl);
    const answer = await client.get<{ instance?: string }>(`${path}?access_token=${SECRET}&card=tok_visa`);
    expect(answer.status).toBe(status);
    expect(JSON.stringify(answer.body)).not.toMatch(/access_token|c2VjcmV0|tok_visa/);
    if (answer.body.instance !== undefined) expect(answer.body.instance).toBe(path);
  });
});
