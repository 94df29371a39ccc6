import { accessTokenClaimsOf, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@contracts/identity';
import { given } from '@infra/config';
import {
  buildModuleGraph,
  GRAPH_SOURCE_FOLDERS,
  placeContexts,
  readSourceTree,
  REPOSITORY_ROOT,
  targetOfContext,
  type ModuleGraph,
} from '@infra/module-graph';
import type { Topology } from '@infra/topology';
import { CliError, type CliCommand, type CliIo } from '../cli-command';
import { startConsole, type RunningConsole } from '../console/console-server';
import { contextDeclarations } from '../context-declarations';
import { loadNamedTopology } from './graph.command';
import { operationsUrlOf } from './status.command';

export interface ConsoleCommandOptions {
  readonly topology: string;
  readonly port: string;
  readonly host: string;
  readonly shopUrl?: string;
  readonly plainHttp?: boolean;
  readonly traceUrl?: string;
  /** Comma-separated names the console is reached by besides loopback names. */
  readonly publicName?: string;
}

/**
 * `ficus console`: the console's page beside a running shop of any topology (docs/console.md).
 * It runs until Ctrl-C.
 */
export const command: CliCommand = {
  name: 'console',
  register(program, io) {
    program
      .command('console')
      .description('start the ficus console: a page that shows where each module runs and how each process is')
      .option(
        '--topology <name|file>',
        'the running shop: monolith, split, hybrid or a topology file (default FICUS_TOPOLOGY, else monolith)',
      )
      .option('--port <port>', 'the console’s port', '3999')
      .option('--host <host>', 'the address it listens on (it is for admins: keep it private)', '127.0.0.1')
      .option('--shop-url <url>', 'the shop’s public URL, where admins sign in (default: the topology’s edge)')
      .option(
        '--plain-http',
        'allow plain HTTP to the shop (--shop-url) and to the processes’ operations ports on other machines',
      )
      .option(
        '--public-name <names>',
        'names (comma-separated) the console is reached by besides localhost: behind a proxy, or with --host 0.0.0.0',
      )
      .option(
        '--trace-url <template>',
        'where an order’s trace opens in your tracing backend, {traceId} in it (default FICUS_TRACE_URL)',
      )
      .addHelpText(
        'after',
        `
Sign in with a shop account that has the admin role (npx ficus admins grant <email>); the console
refuses anyone else, on every call. It reads each process's operations port (/ready, /metrics)
as \`ficus status\` does, and the module graph from this repository's source. An order's trace
comes from the processes' last spans (started with FICUS_TRACE_BUFFER=2000, say), and opens in
your tracing backend with --trace-url (e.g. http://localhost:16686/trace/{traceId} for Jaeger).
With a topology \`ficus extract\` wrote, its Migration page shadows, shifts and rolls back as
\`ficus shadow\` and \`ficus shift\` do, in the owner's database (found as they find it).

Example:
  npx ficus console --topology split`,
      )
      .action(async (options: ConsoleCommandOptions & { topology?: string }) => {
        const topology = options.topology ?? given(io.env.FICUS_TOPOLOGY) ?? 'monolith';
        const running = await startConsoleFor({ ...options, topology }, io);
        io.out(`ficus console for the ${topology} shop: ${running.url} (Ctrl-C stops it)\n`);
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop).off('SIGTERM', stop);
            void running.close().then(resolve);
          };
          process.on('SIGINT', stop).on('SIGTERM', stop);
        });
      });
  },
};

/** The console for a topology, on its port: the graph read from this repository's source. */
export async function startConsoleFor(options: ConsoleCommandOptions, io: CliIo): Promise<RunningConsole> {
  const port = /^\d{1,5}$/.test(options.port) ? Number(options.port) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) {
    throw new CliError(`--port takes a port number (0 to 65535), not ${options.port}`, 2);
  }
  const topology = loadNamedTopology(options.topology, io);
  const graph = placedGraphOf(topology);
  const shopUrl = options.shopUrl ?? edgeUrlOf(topology);
  let parsed: URL;
  try {
    parsed = new URL(shopUrl);
  } catch {
    throw new CliError(`--shop-url takes the shop's URL (http(s)://host:port), not ${shopUrl}`, 2);
  }
  if (!/^https?:$/.test(parsed.protocol) || parsed.username || parsed.password) {
    throw new CliError(`--shop-url takes an http(s) URL without credentials, not ${shopUrl}`, 2);
  }
  // Admins' passwords go to the shop, and its keys vouch for their tokens: not in the clear across a network.
  if (parsed.protocol === 'http:' && !LOOPBACK.test(parsed.hostname) && !options.plainHttp) {
    throw new CliError(
      `the shop's URL ${shopUrl} is plain HTTP on another machine: give its https URL (--shop-url), ` +
        'or --plain-http on a network you trust',
      2,
    );
  }
  // The console sends an admin's token to each process's operations port (dead letters, replays):
  // the same rule as for the shop's URL.
  const farOperations = [
    ...new Set(topology.targets.filter((target) => target.modules.length > 0).map(operationsUrlOf)),
  ].filter((url) => !LOOPBACK.test(new URL(url).hostname));
  if (farOperations.length > 0 && !options.plainHttp) {
    throw new CliError(
      `the operations ports of ${farOperations.join(', ')} are plain HTTP on other machines, and the console ` +
        "sends them an admin's token: run the console beside the processes, or --plain-http on a network you trust",
      2,
    );
  }
  const publicNames = (options.publicName ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name.length > 0);
  const badName = publicNames.find((name) => !HOST_NAME.test(name));
  if (badName !== undefined) {
    throw new CliError(
      `--public-name takes host names or addresses (comma-separated), not ${JSON.stringify(badName)}`,
      2,
    );
  }
  const traceUrl = options.traceUrl ?? (io.env.FICUS_TRACE_URL?.trim() || undefined);
  if (traceUrl !== undefined && !/^https?:\/\/[^\s]*\{traceId\}/.test(traceUrl)) {
    throw new CliError(
      `--trace-url (FICUS_TRACE_URL) takes an http(s) URL with {traceId} in it, not ${JSON.stringify(traceUrl)}`,
      2,
    );
  }
  return startConsole({
    topology,
    traceUrl,
    graph,
    shopUrl,
    claims: accessTokenClaimsOf({
      FICUS_JWT_ISSUER: io.env.FICUS_JWT_ISSUER?.trim() || ACCESS_TOKEN_ISSUER,
      FICUS_JWT_AUDIENCE: io.env.FICUS_JWT_AUDIENCE?.trim() || ACCESS_TOKEN_AUDIENCE,
    }),
    host: options.host,
    publicNames,
    port,
    env: io.env,
  }).catch((error: unknown) => {
    const code = (error as { code?: unknown }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new CliError(`the console cannot listen on ${options.host}:${port}: ${(error as Error).message}`);
    }
    throw error;
  });
}

/** The module graph, read from this repository's source, its contexts placed on the topology's targets. */
export function placedGraphOf(topology: Topology): ModuleGraph {
  return placeContexts(
    buildModuleGraph(contextDeclarations(REPOSITORY_ROOT), readSourceTree(REPOSITORY_ROOT, GRAPH_SOURCE_FOLDERS)),
    targetOfContext(topology),
  );
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;
/** A DNS name, an IPv4 address or a bracketed IPv6 address, without a port. */
const HOST_NAME = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])$/;

/** The public URL of the topology's edge (the target serving the shop's HTTP API). */
function edgeUrlOf(topology: Topology): string {
  const edge = topology.targets.find((target) => target.edge);
  if (!edge) throw new CliError(`${topology.source} has no edge target: give --shop-url`, 2);
  const host = edge.http.host === '0.0.0.0' ? '127.0.0.1' : edge.http.host;
  return `http://${host}:${edge.http.port}`;
}
