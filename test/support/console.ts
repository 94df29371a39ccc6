import { randomUUID } from 'node:crypto';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@contracts/identity';
import type { Topology } from '@infra/topology';
import { placedGraphOf } from '../../apps/cli/src/commands/console.command';
import { startConsole, type RunningConsole } from '../../apps/cli/src/console/console-server';
import { ShopClient } from './http-client';
import { monolithOnFreePorts, startShop, type RunningShop } from './shop';
import { asAdmin } from './test-database';

export interface ShopWithConsole {
  readonly shop: RunningShop;
  readonly console: RunningConsole;
  /** The monolith's topology with the ports it runs on. */
  readonly topology: Topology;
  readonly admin: { readonly email: string; readonly password: string };
  readonly customer: { readonly email: string; readonly password: string };
  close(): Promise<void>;
}

/**
 * The monolith, an admin and a customer of it, and `ficus console` beside it (the console as
 * the command starts it, on the topology with the ports the shop took).
 */
export async function shopWithConsole(label: string): Promise<ShopWithConsole> {
  const shop = await startShop(label);
  const portOf = (url: string) => Number(new URL(url).port);
  const topology = monolithOnFreePorts().withTarget('monolith', (target) => ({
    ...target,
    http: { host: '127.0.0.1', port: portOf(shop.baseUrl) },
    operations: { host: '127.0.0.1', port: portOf(shop.operationsUrl) },
  }));
  const anonymous = new ShopClient(shop.baseUrl);
  const admin = { email: `admin-${randomUUID()}@example.com`, password: 'console admin password' };
  const customer = { email: `customer-${randomUUID()}@example.com`, password: 'console customer password' };
  const promoted = await anonymous.signUp(admin.email, admin.password);
  await anonymous.signUp(customer.email, customer.password);
  // `ficus admins grant` (test/security/admins.test.ts) is this row change; the next login carries it.
  await asAdmin(
    shop.database,
    `UPDATE identity.customers SET roles = ARRAY['customer', 'admin'] WHERE customer_id = $1`,
    [promoted.customerId],
  );
  const running = await consoleOn(topology, shop.baseUrl);
  return {
    shop,
    console: running,
    topology,
    admin,
    customer,
    close: async () => {
      await running.close();
      await shop.close();
    },
  };
}

/** `ficus console` as the command starts it, reading `topology`, its admins signing in at `shopUrl`; a free port. */
export function consoleOn(topology: Topology, shopUrl: string): Promise<RunningConsole> {
  return startConsole({
    topology,
    graph: placedGraphOf(topology),
    shopUrl,
    claims: { issuer: ACCESS_TOKEN_ISSUER, audience: ACCESS_TOKEN_AUDIENCE },
    host: '127.0.0.1',
    port: 0,
  });
}
