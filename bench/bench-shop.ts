import { randomUUID } from 'node:crypto';
import { Client } from 'pg';

/** What every benchmark does against a running shop over HTTP: post JSON, sign a customer up, stock a sku. */

export async function post(baseUrl: string, path: string, body: unknown, token?: string): Promise<unknown> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Registers a customer (a new email unless one is given) and logs them in. */
export async function signUp(baseUrl: string, email = `bench-${randomUUID()}@example.com`): Promise<{ token: string; customerId: string }> {
  const password = 'benchmark password';
  const registered = (await post(baseUrl, '/identity/register', { email, password })) as { customerId: string };
  const login = (await post(baseUrl, '/identity/login', { email, password })) as { accessToken: string };
  return { token: login.accessToken, customerId: registered.customerId };
}

/** So much of `sku` that no benchmark runs out: straight in the database at `url` (superuser). */
export async function plentyOfStock(url: string, sku: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('UPDATE inventory.stock SET available = 100000000 WHERE sku = $1', [sku]);
  } finally {
    await client.end();
  }
}
