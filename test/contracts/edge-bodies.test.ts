import { z } from 'zod';
import { IdentityContract } from '@contracts/identity';
import { InventoryContract } from '@contracts/inventory';
import { NotificationsContract } from '@contracts/notifications';
import { OrderingContract } from '@contracts/ordering';
import { MailboxQuery } from '../../apps/http-edge/src/routes/dev-mailbox.controller';
import { RestockBody } from '../../apps/http-edge/src/routes/catalog.controller';
import {
  ConfirmBody,
  LoginBody,
  RefreshTokenBody,
  RegisterBody,
} from '../../apps/http-edge/src/routes/identity.controller';
import { IdempotencyKey, PlaceOrderBody } from '../../apps/http-edge/src/routes/place-order';

/**
 * The edge's request bodies say what the contracts say (issue 16, item 6): each field the edge
 * takes has the limits of the contract request it becomes, read from the contract rather than
 * restated. The edge may add to them (strictness, presence), never differ: a limit changed in the
 * contract changes the edge with it, and one restated at the edge and drifting fails here.
 */

type Shape = Record<string, z.ZodType>;

function jsonOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

/** The contract's JSON Schema without what the edge may tighten (unknown fields, and `required` for what it demands). */
function limitsOf(schema: z.ZodType): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(jsonOf(schema), (key, value: unknown) => (key === 'additionalProperties' ? undefined : value)),
  );
}

const fields = (schema: z.ZodType) => (schema as unknown as z.ZodObject<Shape>).shape;

const cases: Array<[string, z.ZodType, Shape, string[]]> = [
  ['POST /identity/register', RegisterBody, fields(IdentityContract.methods.register.request), ['email', 'password']],
  ['POST /identity/login', LoginBody, fields(IdentityContract.methods.login.request), ['email', 'password']],
  ['POST /identity/token', RefreshTokenBody, fields(IdentityContract.methods.refresh.request), ['refreshToken']],
  ['POST /identity/logout', RefreshTokenBody, fields(IdentityContract.methods.logout.request), ['refreshToken']],
  ['POST /identity/confirm', ConfirmBody, fields(IdentityContract.methods.confirmEmail.request), ['token', 'password']],
  ['GET /dev/mailbox', MailboxQuery, fields(NotificationsContract.methods.mailbox.request), ['to']],
  ['POST …/restock', RestockBody, fields(InventoryContract.methods.restock.request), ['quantity']],
  ['POST /orders', PlaceOrderBody, fields(OrderingContract.methods.placeOrder.request), ['items', 'paymentToken']],
];

describe('the edge’s request bodies', () => {
  it.each(cases)('%s: every field has its contract’s limits', (_route, body, contract, names) => {
    const edge = fields(body);
    expect(Object.keys(edge).sort()).toEqual([...names].sort());
    for (const name of names) {
      // Fails when the edge states a limit of its own that the contract does not have, or differs from it.
      expect({ name, schema: jsonOf(edge[name]) }).toMatchObject({ name, schema: limitsOf(contract[name]) });
    }
  });

  it('Idempotency-Key: the contract’s key, in what a header can carry', () => {
    expect(jsonOf(IdempotencyKey)).toMatchObject(
      limitsOf(OrderingContract.methods.placeOrder.request.shape.idempotencyKey.unwrap()),
    );
  });

  it('is strict at every level: an unknown field, also inside an order line, is refused', () => {
    const line = { sku: 'SOIL-MIX', quantity: 1 };
    expect(PlaceOrderBody.safeParse({ items: [line], paymentToken: 'tok_visa' }).success).toBe(true);
    expect(PlaceOrderBody.safeParse({ items: [{ ...line, price: 0 }], paymentToken: 'tok_visa' }).success).toBe(false);
    expect(RegisterBody.safeParse({ email: 'a@example.com', password: 'long enough pw', admin: true }).success).toBe(
      false,
    );
  });
});
