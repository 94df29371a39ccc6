import { MatchersV3, PactV4 } from '@pact-foundation/pact';
import { recordedByMockServer } from './support/mock-server';
import { compareWithCommitted, freshPactDir, HTTP_EDGE, SHOP_WEB } from './support/pact-files';
import { ShopWebClient } from './support/shop-web.client';
import { PASSWORD, SHOP_STATES } from './support/shop-web.states';

const { eachLike, fromProviderState, integer, like, regex, uuid } = MatchersV3;

/**
 * shop-web, the consumer of the public HTTP API: each interaction is one step of the README's curl
 * session, run by the shop-web client against Pact's mock server. The pact asks for the fields the
 * client reads, by type; ids, emails and tokens come from the provider's states at verification.
 */

const out = freshPactDir('shop-web');
afterAll(() => out.dispose());

const pact = new PactV4({ consumer: SHOP_WEB, provider: HTTP_EDGE, dir: out.dir, logLevel: 'error' });

const ORDER_ID = 'f87b8a80-0e97-44bf-85ad-7d6d91dc1fc6';
const TOKEN = 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.e30.c2ln';
// Pact's regex matchers match the whole value.
const json = { 'Content-Type': regex('^application/json(;.*)?$', 'application/json; charset=utf-8') };
const bearer = { authorization: regex('^Bearer \\S+$', `Bearer ${TOKEN}`) };
const money = (amountMinor: number) => ({ amountMinor: integer(amountMinor), currency: regex('^[A-Z]{3}$', 'EUR') });
const status = (example: string) => regex('^(PENDING|CONFIRMED|FAILED)$', example);
const sku = regex('^[A-Z0-9][A-Z0-9-]{1,39}$', 'FICUS-LYRATA');

describe('shop-web → the HTTP edge', () => {
  it('browses the catalogue', async () => {
    await pact
      .addInteraction()
      .given(SHOP_STATES.catalogue)
      .uponReceiving('a request for the first page of products')
      .withRequest('GET', '/catalog/products', (b) => b.query({ pageSize: '2' }))
      .willRespondWith(200, (b) =>
        b.headers(json).jsonBody({
          items: eachLike({ sku, name: like('Fiddle-leaf fig'), price: money(3_900) }, 1),
          total: integer(8),
        }),
      )
      .executeTest(
        recordedByMockServer(async (mock) => {
          const page = await new ShopWebClient(mock.url).products(2);
          expect(page.items[0]).toEqual({
            sku: 'FICUS-LYRATA',
            name: 'Fiddle-leaf fig',
            price: { amountMinor: 3_900, currency: 'EUR' },
          });
          expect(page.total).toBe(8);
        }),
      );
  });

  it('signs up', async () => {
    await pact
      .addInteraction()
      .given(SHOP_STATES.newEmail)
      .uponReceiving('a sign-up')
      .withRequest('POST', '/identity/register', (b) =>
        b
          .headers({ 'content-type': 'application/json' })
          .jsonBody({ email: fromProviderState('${email}', 'ada@example.com'), password: PASSWORD }),
      )
      .willRespondWith(202, (b) =>
        b.headers(json).jsonBody({ status: 'confirmation-sent', detail: like('check your mailbox') }),
      )
      .executeTest(
        recordedByMockServer(async (mock) => {
          expect(await new ShopWebClient(mock.url).signUp('ada@example.com', PASSWORD)).toEqual({
            status: 'confirmation-sent',
            detail: 'check your mailbox',
          });
        }),
      );
  });

  it('signs in and keeps the bearer token', async () => {
    await pact
      .addInteraction()
      .given(SHOP_STATES.registered)
      .uponReceiving('a sign-in')
      .withRequest('POST', '/identity/login', (b) =>
        b
          .headers({ 'content-type': 'application/json' })
          .jsonBody({ email: fromProviderState('${email}', 'ada@example.com'), password: PASSWORD }),
      )
      .willRespondWith(200, (b) =>
        b.headers(json).jsonBody({ accessToken: like(TOKEN), tokenType: 'Bearer', expiresIn: integer(900) }),
      )
      .executeTest(
        recordedByMockServer(async (mock) => {
          expect(await new ShopWebClient(mock.url).signIn('ada@example.com', PASSWORD)).toBe(TOKEN);
        }),
      );
  });

  it('places an order', async () => {
    await pact
      .addInteraction()
      .given(SHOP_STATES.signedIn)
      .uponReceiving('an order for two FICUS-LYRATA')
      .withRequest('POST', '/orders', (b) =>
        b
          .headers({ ...bearer, 'content-type': 'application/json' })
          .jsonBody({ items: [{ sku: 'FICUS-LYRATA', quantity: 2 }], paymentToken: 'tok_visa' }),
      )
      .willRespondWith(202, (b) => b.headers(json).jsonBody({ orderId: uuid(ORDER_ID), status: status('PENDING') }))
      .executeTest(
        recordedByMockServer(async (mock) => {
          const placed = await new ShopWebClient(mock.url).placeOrder(
            TOKEN,
            [{ sku: 'FICUS-LYRATA', quantity: 2 }],
            'tok_visa',
          );
          expect(placed).toEqual({ orderId: ORDER_ID, status: 'PENDING' });
        }),
      );
  });

  it('reads the order', async () => {
    await pact
      .addInteraction()
      .given(SHOP_STATES.withOrder)
      .uponReceiving('a request for an order of the signed-in customer')
      .withRequest('GET', fromProviderState('/orders/${orderId}', `/orders/${ORDER_ID}`), (b) => b.headers(bearer))
      .willRespondWith(200, (b) =>
        b.headers(json).jsonBody({
          id: uuid(ORDER_ID),
          status: status('CONFIRMED'),
          items: eachLike({ sku, quantity: integer(2), unitPrice: money(3_900) }),
          total: money(7_800),
        }),
      )
      .executeTest(
        recordedByMockServer(async (mock) => {
          const order = await new ShopWebClient(mock.url).order(TOKEN, ORDER_ID);
          expect(order).toEqual({
            id: ORDER_ID,
            status: 'CONFIRMED',
            items: [{ sku: 'FICUS-LYRATA', quantity: 2, unitPrice: { amountMinor: 3_900, currency: 'EUR' } }],
            total: { amountMinor: 7_800, currency: 'EUR' },
          });
        }),
      );
  });

  it('follows the order on its timeline', async () => {
    await pact
      .addInteraction()
      .given(SHOP_STATES.withOrder)
      .uponReceiving('a request for the timeline of an order of the signed-in customer')
      .withRequest('GET', fromProviderState('/orders/${orderId}/timeline', `/orders/${ORDER_ID}/timeline`), (b) =>
        b.headers(bearer),
      )
      .willRespondWith(200, (b) =>
        b.headers(json).jsonBody({
          orderId: uuid(ORDER_ID),
          status: status('CONFIRMED'),
          steps: eachLike({
            step: like('ORDER_CREATED'),
            at: regex('^\\d{4}-\\d{2}-\\d{2}T[\\d:.]+(Z|[+-]\\d{2}:\\d{2})$', '2026-11-25T12:17:56.321Z'),
          }),
        }),
      )
      .executeTest(
        recordedByMockServer(async (mock) => {
          const timeline = await new ShopWebClient(mock.url).timeline(TOKEN, ORDER_ID);
          expect(timeline.steps[0].step).toBe('ORDER_CREATED');
          expect(timeline.orderId).toBe(ORDER_ID);
        }),
      );
  });

  it('the committed pact is the one this test writes', () => {
    expect(compareWithCommitted(out.dir, SHOP_WEB, HTTP_EDGE)).toBe('');
  });
});
