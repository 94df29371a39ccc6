import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { createRemoteJWKSet } from 'jose';
import { ACCESS_TOKEN_TYPE, type AccessTokenClaims } from '@contracts/identity';
import type { Caller } from '@contracts/kernel';
import { renderDot, renderSvg, sampleCallRates, type ModuleGraph } from '@infra/module-graph';
import { verifyAccessToken } from '@infra/security';
import type { Topology } from '@infra/topology';
import { operationsUrlOf, readProcessState, type ProcessState } from '../commands/status.command';

export interface ConsoleOptions {
  readonly topology: Topology;
  /** The module graph, placed on the topology's targets (`ficus graph --topology`). */
  readonly graph: ModuleGraph;
  /** The shop's public URL (its edge): where an admin signs in, and whose keys sign their token. */
  readonly shopUrl: string;
  /** The `iss` and `aud` the shop's tokens carry (FICUS_JWT_ISSUER, FICUS_JWT_AUDIENCE). */
  readonly claims: AccessTokenClaims;
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
}

export interface RunningConsole {
  readonly url: string;
  close(): Promise<void>;
}

/** What the map shows: where each module runs and how each process is, with the graph drawn. */
export interface ConsoleMap {
  readonly topology: { readonly name: string; readonly source: string };
  readonly processes: readonly ProcessState[];
  /** The module graph inside its processes, with the calls counted so far on its edges (SVG). */
  readonly svg: string;
  /** Why the calls are missing from the graph, when no process could be scraped. */
  readonly callsUnavailable?: string;
}

const PUBLIC = join(__dirname, 'public');
/** The page's front end (Preact and htm: ES modules, no build step), served from node_modules. */
const VENDOR: Readonly<Record<string, string>> = {
  'preact.mjs': require.resolve('preact'),
  'hooks.mjs': require.resolve('preact/hooks'),
  'htm.mjs': join(dirname(require.resolve('htm')), 'htm.mjs'),
};

/**
 * `ficus console`: a page for the people steering a migration, beside a running shop of any
 * topology. It reads what the processes already expose (their operations port's /ready and
 * /metrics, as `ficus status` does) and needs nothing new from them. Everything on it is for the
 * shop's admins: the page signs in through the shop's own login, and every API call here checks
 * the admin's access token against the shop's signing keys, whatever the page shows.
 */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const app = express();
  app.disable('x-powered-by');
  const page = readFileSync(join(PUBLIC, 'index.html'), 'utf8');
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(page)?.[1] ?? '';
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          // The page's one inline script is its import map, allowed by its hash.
          scriptSrc: ["'self'", `'sha256-${createHash('sha256').update(importMap).digest('base64')}'`],
          imgSrc: ["'self'", 'data:'],
        },
      },
    }),
  );
  app.use(express.json({ limit: '16kb', strict: true }));

  const keys = createRemoteJWKSet(new URL('/.well-known/jwks.json', options.shopUrl));
  const adminOf = (request: Request): Promise<Caller> => {
    const token = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token) throw new ConsoleProblem(401, 'missing-token', 'sign in: the console needs an admin access token');
    return adminOfToken(token);
  };
  const adminOfToken = async (token: string): Promise<Caller> => {
    let caller: Caller;
    try {
      caller = await verifyAccessToken(token, keys, { type: ACCESS_TOKEN_TYPE, ...options.claims });
    } catch {
      throw new ConsoleProblem(401, 'invalid-token', 'the access token is not valid (expired?): sign in again');
    }
    if (!caller.roles.includes('admin')) {
      throw new ConsoleProblem(403, 'not-an-admin', 'the console is for the shop’s admins (ficus admins grant)');
    }
    return caller;
  };

  app.get('/', (_request, response) => {
    response.type('html').send(page);
  });
  app.get(['/console.js', '/console.css'], (request, response) => {
    response.sendFile(join(PUBLIC, request.path.slice(1)));
  });
  app.get('/vendor/:file', (request, response, next) => {
    const name = String(request.params.file);
    if (!Object.hasOwn(VENDOR, name)) return next();
    response.type('text/javascript').sendFile(VENDOR[name]);
  });

  /** Signs an admin in through the shop's own login; anyone else is refused here, not only on the page. */
  app.post('/api/session', async (request, response, next) => {
    try {
      const { email, password } = (request.body ?? {}) as { email?: unknown; password?: unknown };
      if (typeof email !== 'string' || typeof password !== 'string') {
        throw new ConsoleProblem(400, 'validation-failed', 'give your email and password');
      }
      const login = await fetch(new URL('/identity/login', options.shopUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
        signal: AbortSignal.timeout(10_000),
      }).catch(() => {
        throw new ConsoleProblem(502, 'shop-unreachable', `the shop at ${options.shopUrl} does not answer`);
      });
      const answer = (await login.json().catch(() => ({}))) as { accessToken?: string; detail?: string; code?: string };
      if (login.status >= 500 || (login.status === 200 && !answer.accessToken)) {
        throw new ConsoleProblem(502, 'shop-unavailable', `the shop could not sign you in now (${login.status})`);
      }
      if (login.status !== 200 || !answer.accessToken) {
        // The shop's own refusal, as it said it (a wrong password, too many attempts and when to retry).
        const retryAfter = login.headers.get('retry-after');
        if (retryAfter) response.setHeader('Retry-After', retryAfter);
        throw new ConsoleProblem(
          login.status,
          answer.code ?? 'sign-in-failed',
          answer.detail ?? 'the shop refused the sign-in',
        );
      }
      const admin = await adminOfToken(answer.accessToken);
      response.json({ accessToken: answer.accessToken, subject: admin.subject });
    } catch (error) {
      next(error);
    }
  });

  app.get('/api/map', async (request, response, next) => {
    try {
      await adminOf(request);
      response.json(await mapOf(options));
    } catch (error) {
      next(error);
    }
  });

  app.use((request, _response, next) => {
    next(new ConsoleProblem(404, 'not-found', `no ${request.method} ${request.originalUrl} here`));
  });
  app.use((error: unknown, request: Request, response: Response, _next: NextFunction) => {
    const problem =
      error instanceof ConsoleProblem
        ? error
        : bodyErrorStatus(error)
          ? new ConsoleProblem(bodyErrorStatus(error)!, 'malformed-json', 'the body is not JSON of at most 16 kB')
          : new ConsoleProblem(500, 'internal', 'the console failed; its output says why');
    if (problem.status === 500) console.error(error);
    response
      .status(problem.status)
      .type('application/problem+json')
      .send(
        JSON.stringify({
          type: 'about:blank',
          title: problem.title,
          status: problem.status,
          code: problem.code,
          detail: problem.message,
          instance: request.originalUrl,
        }),
      );
  });

  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(options.port, options.host, () => resolve(listening));
    listening.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The processes of the topology as they answer now, and the graph with the calls counted so far. */
async function mapOf(options: ConsoleOptions): Promise<ConsoleMap> {
  const { topology, graph } = options;
  const processes = await Promise.all(topology.targets.map((target) => readProcessState(target)));
  const reachable = topology.targets.filter((_, at) => processes[at].ready !== 'unreachable');
  let callsUnavailable: string | undefined = reachable.length === 0 ? 'no process answers' : undefined;
  const rates = callsUnavailable
    ? undefined
    : await sampleCallRates(graph, reachable.map(operationsUrlOf), 0).catch((error: unknown) => {
        callsUnavailable = error instanceof Error ? error.message : String(error);
        return undefined;
      });
  return {
    topology: { name: topology.name, source: topology.source },
    processes,
    svg: await renderSvg(renderDot(graph, rates)),
    ...(callsUnavailable ? { callsUnavailable } : {}),
  };
}

class ConsoleProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }

  get title(): string {
    return this.code.replace(/-/g, ' ');
  }
}

/** The 4xx status of a body the JSON parser refused (malformed, too large, an unknown charset). */
function bodyErrorStatus(error: unknown): number | undefined {
  const { type, status } = (error ?? {}) as { type?: unknown; status?: unknown };
  return typeof type === 'string' && typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}
