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

  /**
   * A GraphQL operation asked for as server-sent events (a subscription): the HTTP answer, and
   * its events as they come. A refusal before the stream (a problem) is in `problem`.
   */
  async graphqlStream<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphqlStream<T>> {
    const headers: Record<string, string> = { accept: 'text/event-stream', 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const abort = new AbortController();
    const response = await fetch(`${this.baseUrl}/graphql`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables }),
      signal: abort.signal,
    });
    if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
      const text = await response.text();
      return new GraphqlStream<T>(response, abort, text ? JSON.parse(text) : undefined);
    }
    return new GraphqlStream<T>(response, abort);
  }

  /** Registers a new customer, confirms their address as they would (the mailed link), and returns a client that acts as them. */
  async signUp(
    email = `customer-${randomUUID()}@example.com`,
    password = 'correct horse battery',
  ): Promise<ShopClient & { customerId: string }> {
    const registered = await this.post('/identity/register', { email, password });
    if (registered.status !== 202)
      throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
    const customerId = await this.confirmEmail(email, password);
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

  /** Confirms `email` as its owner does: the mailed link's token and the password chosen when registering; the account's id. */
  async confirmEmail(email: string, password: string): Promise<string> {
    const confirmed = await this.post<{ customerId: string }>('/identity/confirm', {
      token: await this.confirmationToken(email),
      password,
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

/** A stream of GraphQL results as server-sent events (GraphQL over SSE, distinct connections mode). */
export class GraphqlStream<T> {
  readonly status: number;
  readonly headers: Headers;
  /** Whether the server said `complete`. */
  completed = false;
  private readonly reader?: ReadableStreamDefaultReader<Uint8Array>;
  private buffered = '';
  private readonly decoder = new TextDecoder();

  constructor(
    response: Response,
    private readonly abort: AbortController,
    /** The problem the edge answered instead of a stream. */
    readonly problem?: { code?: string; status?: number; detail?: string },
  ) {
    this.status = response.status;
    this.headers = response.headers;
    if (!problem) this.reader = response.body!.getReader();
  }

  /** The next result, or undefined once the stream completed or closed. */
  async next(): Promise<GraphqlAnswer<T> | undefined> {
    if (!this.reader || this.completed) return undefined;
    for (;;) {
      const end = this.buffered.indexOf('\n\n');
      if (end >= 0) {
        const message = this.buffered.slice(0, end);
        this.buffered = this.buffered.slice(end + 2);
        const lines = message.split('\n');
        const event = lines
          .find((line) => line.startsWith('event:'))
          ?.slice(6)
          .trim();
        const data = lines
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim())
          .join('\n');
        if (event === 'complete') {
          this.completed = true;
          return undefined;
        }
        if (event === 'next') return JSON.parse(data) as GraphqlAnswer<T>;
        continue; // a keep-alive comment
      }
      const { value, done } = await this.reader.read();
      if (done) return undefined;
      this.buffered += this.decoder.decode(value, { stream: true });
    }
  }

  /** Every result left, until the stream completes or closes. */
  async rest(): Promise<GraphqlAnswer<T>[]> {
    const results: GraphqlAnswer<T>[] = [];
    for (let result = await this.next(); result; result = await this.next()) results.push(result);
    return results;
  }

  /** Hangs up, as a client that goes away. */
  close(): void {
    this.abort.abort();
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
