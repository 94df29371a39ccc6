import { MatchersV3 } from '@pact-foundation/pact';
import { CatalogContract } from '@contracts/catalog';

const { eachLike, integer, like, regex } = MatchersV3;

/**
 * The contract methods one module calls on another, as synchronous messages (ADR 0029): the
 * description is the gRPC path's service and method, the request and response are the JSON form
 * of what the contract's schemas accept. Today that is one hop: ordering prices an order through
 * catalog.getProducts (the one synchronous hop of POST /orders).
 */
export const GET_PRODUCTS = `${CatalogContract.name}/getProducts`;

export function getProductsExchange() {
  return {
    request: { skus: ['FICUS-LYRATA'] },
    response: {
      products: eachLike({
        sku: regex('^[A-Z0-9][A-Z0-9-]{1,39}$', 'FICUS-LYRATA'),
        name: like('Fiddle-leaf fig'),
        price: { amountMinor: integer(3_900), currency: regex('^[A-Z]{3}$', 'EUR') },
      }),
      missingSkus: [],
    },
  };
}
