/** The provider states of the shop-web pact: the consumer names them, the HTTP edge's verification sets them up. */
export const SHOP_STATES = {
  catalogue: 'the demo catalogue is seeded',
  newEmail: 'an email no customer has registered with',
  registered: 'a registered customer',
  signedIn: 'a signed-in customer, and FICUS-LYRATA in stock',
  withOrder: 'a signed-in customer who has placed an order',
} as const;

export const PASSWORD = 'correct horse battery';
