import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { eventually } from './eventually';

export interface HttpAnswer<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface GraphqlAnswer<T> {
  readonly data?: T | null;
  readonly errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string; status?: number } }>;
}

/** A small fetch wrapper for tests: JSON in, JSON (or text) out, status always visible. */
export class ShopClient {
  constructor(
    readonly baseUrl: string,
    private token?: string,
  ) {}

  get accessToken(): string | undefined {
    return this.token;
  }

  /** The same caller against another running shop (tokens outlive a restart). */
  at(baseUrl: string): ShopClient {
    return new ShopClient(baseUrl, this.token);
  }

  withToken(token: string): ShopClient {
    return new ShopClient(this.baseUrl, token);
  }

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpAnswer<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers['content-type'] ??= 'application/json';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text so the assertion shows it
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  }

  get<T = Record<string, unknown>>(path: string) {
    return this.request<T>('GET', path);
  }

  post<T = Record<string, unknown>>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, { body, headers });
  }

  /** A GraphQL operation on `POST /graphql`: the HTTP answer, its body `{ data, errors }`. */
  graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>) {
    return this.request<GraphqlAnswer<T>>('POST', '/graphql', { body: { query, variables } });
  }

  /** Registers a new customer, confirms their address as they would (the mailed link), and returns a client that acts as them. */
  async signUp(
    email = `customer-${randomUUID()}@example.com`,
    password = 'correct horse battery',
  ): Promise<ShopClient & { customerId: string }> {
    const registered = await this.post('/identity/register', { email, password });
    if (registered.status !== 202)
      throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
    const customerId = await this.confirmEmail(email);
    const login = await this.post<{ accessToken: string }>('/identity/login', { email, password });
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
    return Object.assign(this.withToken(login.body.accessToken), { customerId });
  }

  /** The token of the newest confirmation email to `email`, read from the development mailbox (it arrives through an event: polled). */
  async confirmationToken(email: string): Promise<string> {
    return eventually(
      async () => {
        const box = await new ShopClient(this.baseUrl).get<{ items?: Array<{ kind: string; text: string }> }>(
          `/dev/mailbox?to=${encodeURIComponent(email)}`,
        );
        const mail = box.body.items?.find((item) => item.kind === 'email-confirmation');
        return mail ? /\/identity\/confirm\?token=([A-Za-z0-9_-]+)/.exec(mail.text)?.[1] : undefined;
      },
      { until: (token) => token !== undefined, what: `the confirmation email to ${email}` },
    ) as Promise<string>;
  }

  /** Follows the confirmation link mailed to `email`; the account's id. */
  async confirmEmail(email: string): Promise<string> {
    const confirmed = await this.post<{ customerId: string }>('/identity/confirm', {
      token: await this.confirmationToken(email),
    });
    if (confirmed.status !== 200)
      throw new Error(`confirm failed: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
    return confirmed.body.customerId;
  }

  async placeOrder(
    items: Array<{ sku: string; quantity: number }>,
    paymentToken = 'tok_visa',
    headers?: Record<string, string>,
  ) {
    return this.post<{ orderId: string; status: string; replayed: boolean }>(
      '/orders',
      { items, paymentToken },
      headers,
    );
  }

  async stock(sku: string): Promise<{ sku: string; available: number; reserved: number }> {
    const answer = await this.get<{ sku: string; available: number; reserved: number }>(`/inventory/stock/${sku}`);
    if (answer.status !== 200) throw new Error(`stock of ${sku}: ${answer.status}`);
    return answer.body;
  }

  /** Waits until the order has left PENDING; returns its final view. */
  async finalOrder(
    orderId: string,
    timeoutMs = 20_000,
  ): Promise<{ id: string; status: string; failureReason?: string }> {
    return eventually(
      async () => {
        const answer = await this.get<{ id: string; status: string; failureReason?: string }>(`/orders/${orderId}`);
        if (answer.status !== 200) throw new Error(`GET /orders/${orderId}: ${answer.status}`);
        return answer.body;
      },
      { until: (order) => order.status !== 'PENDING', timeoutMs, what: `order ${orderId} settles` },
    );
  }
}

/**
 * One request with its target sent byte for byte (fetch and URL normalise `//`, `%2e` and dot
 * segments away before they leave), for tests of how the edge reads odd paths and bodies.
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  target: string,
  options: { headers?: Record<string, string>; body?: Buffer | string; token?: string } = {},
): Promise<HttpAnswer> {
  const { hostname, port } = new URL(baseUrl);
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(options.body));
  }
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: hostname, port, method, path: target, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text so the assertion shows it
        }
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) answerHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        resolve({ status: response.statusCode ?? 0, headers: answerHeaders, body });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}
