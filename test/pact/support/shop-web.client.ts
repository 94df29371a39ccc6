/**
 * The web shop's client of the public HTTP API: the README's curl session as code (browse, sign
 * up, sign in, order, follow the order). It is the consumer of the HTTP pact: what it sends and
 * the fields it reads are what the pact holds the HTTP edge to.
 */
export interface Money {
  amountMinor: number;
  currency: string;
}

export class ShopWebClient {
  constructor(private readonly baseUrl: string) {}

  async products(
    pageSize: number,
  ): Promise<{ items: Array<{ sku: string; name: string; price: Money }>; total: number }> {
    return this.call('GET', `/catalog/products?pageSize=${pageSize}`);
  }

  /** The same answer for a new and a known address; the account signs in once its mailbox is confirmed. */
  async signUp(email: string, password: string): Promise<{ status: string; detail: string }> {
    return this.call('POST', '/identity/register', { body: { email, password } });
  }

  /** The bearer token for the other calls. */
  async signIn(email: string, password: string): Promise<string> {
    const tokens = await this.call<{ accessToken: string; tokenType: string; expiresIn: number }>(
      'POST',
      '/identity/login',
      {
        body: { email, password },
      },
    );
    if (tokens.tokenType !== 'Bearer') throw new Error(`unexpected token type ${tokens.tokenType}`);
    return tokens.accessToken;
  }

  async placeOrder(
    token: string,
    items: Array<{ sku: string; quantity: number }>,
    paymentToken: string,
  ): Promise<{ orderId: string; status: string }> {
    return this.call('POST', '/orders', { token, body: { items, paymentToken } });
  }

  async order(
    token: string,
    orderId: string,
  ): Promise<{
    id: string;
    status: string;
    items: Array<{ sku: string; quantity: number; unitPrice: Money }>;
    total: Money;
  }> {
    return this.call('GET', `/orders/${orderId}`, { token });
  }

  async timeline(
    token: string,
    orderId: string,
  ): Promise<{ orderId: string; status: string; steps: Array<{ step: string; at: string }> }> {
    return this.call('GET', `/orders/${orderId}/timeline`, { token });
  }

  private async call<T>(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const answer = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${await answer.text()}`);
    return (await answer.json()) as T;
  }
}
