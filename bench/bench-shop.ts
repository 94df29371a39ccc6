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

const PASSWORD = 'benchmark password';

/** Registers a customer (a new email unless one is given), confirms the address from the development mailbox, and logs them in. */
export async function signUp(
  baseUrl: string,
  email = `bench-${randomUUID()}@example.com`,
): Promise<{ token: string; customerId: string }> {
  await post(baseUrl, '/identity/register', { email, password: PASSWORD });
  let token: string | undefined;
  for (const started = Date.now(); !token; await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (Date.now() - started > 30_000) throw new Error(`no confirmation email to ${email} within 30 s`);
    const box = (await (await fetch(`${baseUrl}/dev/mailbox?to=${encodeURIComponent(email)}`)).json()) as {
      items?: Array<{ kind: string; text: string }>;
    };
    token = /\/identity\/confirm\?token=([A-Za-z0-9_-]+)/.exec(
      box.items?.find((item) => item.kind === 'email-confirmation')?.text ?? '',
    )?.[1];
  }
  const { customerId } = (await post(baseUrl, '/identity/confirm', { token, password: PASSWORD })) as {
    customerId: string;
  };
  return { token: (await signIn(baseUrl, email)).token, customerId };
}

/** Signs a customer signed up by `signUp` in again (after a role change, say). */
export async function signIn(baseUrl: string, email: string): Promise<{ token: string }> {
  const login = (await post(baseUrl, '/identity/login', { email, password: PASSWORD })) as { accessToken: string };
  return { token: login.accessToken };
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
