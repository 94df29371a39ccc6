import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { ACCESS_TOKEN_TYPE, type AccessTokenClaims } from '@contracts/identity';
import type { Caller } from '@contracts/kernel';
import {
  attributeCalls,
  consumerLag,
  countCalls,
  renderDot,
  renderSvg,
  type CallCounts,
  type CallRates,
  type ModuleGraph,
} from '@infra/module-graph';
import { KEPT_SPAN_LIMITS, type KeptSpan, type MetricSample } from '@infra/observability';
import { DEAD_LETTER_ID } from '@infra/messaging';
import { verifyAccessToken } from '@infra/security';
import { formatFlagState, type FlagChange } from '@infra/flags';
import { MessagingDesk, type ConsoleDeadLetter, type ProcessAnswer } from './messaging-desk';
import { ConsoleRefusal, DeploymentStores } from './deployment-stores';
import { FlagDesk } from './flag-desk';
import { MigrationDesk } from './migration-desk';
import { ShopKeys, ShopKeysUnavailable } from './shop-keys';
import type { Topology } from '@infra/topology';
import {
  operationsUrlOf,
  processStateOf,
  scrapeProcess,
  unreachableProcess,
  type ProcessState,
} from '../commands/status.command';

export interface ConsoleOptions {
  readonly topology: Topology;
  /** The module graph, placed on the topology's targets (`ficus graph --topology`). */
  readonly graph: ModuleGraph;
  /** The shop's public URL (its edge): where an admin signs in, and whose keys sign their token. */
  readonly shopUrl: string;
  /** The `iss` and `aud` the shop's tokens carry (FICUS_JWT_ISSUER, FICUS_JWT_AUDIENCE). */
  readonly claims: AccessTokenClaims;
  readonly host: string;
  /**
   * Names the console is reached by besides loopback names and `host` itself (`--public-name`):
   * behind a proxy, or from another machine when it listens on 0.0.0.0. Lowercase, no port.
   */
  readonly publicNames?: readonly string[];
  /** 0: any free port. */
  readonly port: number;
  /**
   * Where an order's trace opens in the tracing backend the processes export to, `{traceId}` in
   * it (`--trace-url`, FICUS_TRACE_URL), e.g. Jaeger's `http://localhost:16686/trace/{traceId}`.
   */
  readonly traceUrl?: string;
  /** The environment the console finds the deployment's databases with (its flags, for the migration). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunningConsole {
  readonly url: string;
  close(): Promise<void>;
}

/** What the map shows: where each module runs and how each process is, with the graph drawn. */
export interface ConsoleMap {
  readonly topology: { readonly name: string; readonly source: string };
  readonly processes: readonly ProcessState[];
  /** The module graph inside its processes, with the calls counted and their rate on its edges (SVG). */
  readonly svg: string;
  /** Each sync edge's calls (`from→to`): counted so far, failed, and per second since the reading before. */
  readonly calls?: CallRates['edges'];
  /** Why the calls are missing from the graph, when no process could be scraped. */
  readonly callsUnavailable?: string;
  /** The edges' rates reading by reading, for the map's charts. */
  readonly series: ConsoleSeries;
}

/**
 * Each sync edge's calls per second, the share of them that failed and their mean latency as the
 * callers saw it, one point per reading of the console (kept for the last {@link SERIES_LENGTH}):
 * the map's charts. Only edges that carried calls are listed; null where an edge had none.
 */
export interface ConsoleSeries {
  /** When each reading was taken (Unix seconds). */
  readonly at: readonly number[];
  readonly edges: Readonly<
    Record<
      string,
      {
        readonly perSecond: ReadonlyArray<number | null>;
        readonly failingPercent: ReadonlyArray<number | null>;
        readonly meanMs: ReadonlyArray<number | null>;
      }
    >
  >;
}

/** How many readings the charts keep (at a reading every 1 to 3 s: the last 3 to 10 minutes). */
const SERIES_LENGTH = 200;

const PUBLIC = join(__dirname, 'public');
/** A loopback name, as a Host header names it (without its port). */
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;
/** A Host header: a name or IPv4 address, or a bracketed IPv6 address, and an optional port. */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[^:[\]\s]+)(:\d{1,5})?$/i;

/** Which Host headers the console answers: loopback names, the address it listens on, `publicNames`. */
function hostCheck(listen: string, publicNames: readonly string[]) {
  const bare = (name: string) => name.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const names = new Set([bare(listen), ...publicNames.map(bare)]);
  return {
    allows(host: string): boolean {
      const name = HOST_HEADER.exec(host)?.[1];
      return name !== undefined && (LOOPBACK_HOST.test(name) || names.has(bare(name)));
    },
    names: ['loopback names (localhost, 127.x.x.x, [::1])', ...publicNames].join(', '),
  };
}
/** The page's front end (Preact, htm and uPlot: ES modules, no build step), served from node_modules. */
const VENDOR: Readonly<Record<string, string>> = {
  'preact.mjs': require.resolve('preact'),
  'hooks.mjs': require.resolve('preact/hooks'),
  'htm.mjs': join(dirname(require.resolve('htm')), 'htm.mjs'),
  'uPlot.esm.js': join(dirname(require.resolve('uplot')), 'uPlot.esm.js'),
  'uPlot.min.css': join(dirname(require.resolve('uplot')), 'uPlot.min.css'),
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
  app.set('env', 'production'); // never a stack trace in an answer, whatever NODE_ENV says
  const page = readFileSync(join(PUBLIC, 'index.html'), 'utf8');
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(page)?.[1];
  if (importMap === undefined) throw new Error(`${join(PUBLIC, 'index.html')} has no import map`);
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          // The page's one inline script is its import map, allowed by its hash.
          scriptSrc: ["'self'", `'sha256-${createHash('sha256').update(importMap).digest('base64')}'`],
          imgSrc: ["'self'", 'data:'],
          // Plain HTTP on a private address: an upgrade to HTTPS would leave the page blank.
          upgradeInsecureRequests: null,
        },
      },
      strictTransportSecurity: false,
    }),
  );
  // The console answers only to the names it is reached by: loopback names, the address it
  // listens on, and --public-name. A page whose own name resolves to one of its addresses (DNS
  // rebinding) reaches the port but sends that name as Host, and is turned away before it can try
  // a password or lock the admins out; on 0.0.0.0 too.
  const knownHost = hostCheck(options.host, options.publicNames ?? []);
  app.use((request, _response, next) => {
    next(
      knownHost.allows(request.headers.host ?? '')
        ? undefined
        : new ConsoleProblem(421, 'unknown-host', `this console answers to ${knownHost.names} only`),
    );
  });
  app.use(express.json({ limit: '16kb', strict: true }));

  const maps = new MapReader(options);
  const env = options.env ?? process.env;
  const stores = new DeploymentStores(options.topology, env);
  const desk = new MigrationDesk(options.topology, env, stores);
  const flagDesk = new FlagDesk(options.topology, stores);
  const messages = new MessagingDesk(options.topology);
  /** Who signed in with which token's subject, to name them in the flag log (the token carries no email). */
  const emails = new Map<string, string>();
  const keys = new ShopKeys(new URL('/.well-known/jwks.json', options.shopUrl));
  /** The admin calling, and their token (the console asks the shop as them: the shop checks it again). */
  const adminOf = async (request: Request): Promise<{ caller: Caller; token: string }> => {
    const token = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token) throw new ConsoleProblem(401, 'missing-token', 'sign in: the console needs an admin access token');
    return { caller: await adminOfToken(token), token };
  };
  const adminOfToken = async (token: string): Promise<Caller> => {
    let caller: Caller;
    try {
      caller = await verifyAccessToken(token, keys.getKey, { type: ACCESS_TOKEN_TYPE, ...options.claims });
    } catch (error) {
      if (error instanceof ShopKeysUnavailable) {
        throw new ConsoleProblem(503, 'keys-unavailable', 'the shop’s signing keys cannot be read now; retry shortly');
      }
      const reason =
        (error as { code?: unknown }).code === 'ERR_JWT_EXPIRED' ? 'it has expired' : 'it is not valid here';
      throw new ConsoleProblem(401, 'invalid-token', `the access token is refused (${reason}): sign in again`);
    }
    if (!caller.roles.includes('admin')) {
      throw new ConsoleProblem(403, 'not-an-admin', 'the console is for the shop’s admins (ficus admins grant)');
    }
    return caller;
  };

  app.get('/', (_request, response) => {
    response.type('html').send(page);
  });
  for (const file of ['console.js', 'console.css']) {
    app.get(`/${file}`, (_request, response, next) =>
      response.sendFile(join(PUBLIC, file), (error?: Error) => error && next(error)),
    );
  }
  app.get('/vendor/:file', (request, response, next) => {
    const name = String(request.params.file);
    if (!Object.hasOwn(VENDOR, name)) return next();
    response
      .type(name.endsWith('.css') ? 'text/css' : 'text/javascript')
      .sendFile(VENDOR[name], (error?: Error) => error && next(error));
  });

  // Express 5 hands a handler's rejected promise to the error handler at the end: no try/catch here.

  /** Signs an admin in through the shop's own login; anyone else is refused here, not only on the page. */
  app.post('/api/session', async (request, response) => {
    const { email, password } = (request.body ?? {}) as { email?: unknown; password?: unknown };
    if (typeof email !== 'string' || typeof password !== 'string') {
      throw new ConsoleProblem(400, 'validation-failed', 'give your email and password');
    }
    const login = await shopPost(options.shopUrl, '/identity/login', { email, password });
    const answer = (await login.json().catch(() => undefined)) as Record<string, unknown> | null | undefined;
    const accessToken = typeof answer?.accessToken === 'string' ? answer.accessToken : undefined;
    if (login.status === 200 && accessToken) {
      // The console keeps no refresh token: the sign-in it started ends here, the access token serves on.
      if (typeof answer?.refreshToken === 'string') {
        await shopPost(options.shopUrl, '/identity/logout', { refreshToken: answer.refreshToken }).catch(
          () => undefined,
        );
      }
      const admin = await adminOfToken(accessToken);
      if (emails.size >= 1_000) emails.delete(emails.keys().next().value!);
      emails.set(admin.subject, printable(email).slice(0, 254));
      response.json({ accessToken, subject: admin.subject });
      return;
    }
    if (!PASSED_ON.has(login.status)) {
      throw new ConsoleProblem(
        502,
        'shop-unavailable',
        `the shop could not sign you in now (it answered ${login.status})`,
      );
    }
    // The shop's own refusal, as it said it (a wrong password; too many attempts, and when to retry).
    const retryAfter = retryAfterOf(login.headers.get('retry-after'));
    if (retryAfter) response.setHeader('Retry-After', retryAfter);
    throw new ConsoleProblem(
      login.status,
      codeOf(answer?.code),
      textOf(answer?.detail) ?? 'the shop refused the sign-in',
    );
  });

  app.get('/api/map', async (request, response) => {
    await adminOf(request);
    response.json((await maps.read()).map);
  });

  /** Where each context runs, and each extraction's switches, shadow results, measured share and next step. */
  app.get('/api/migration', async (request, response) => {
    await adminOf(request);
    const reading = await maps.read();
    const { topology, processes } = reading.map;
    response.json({ topology, contexts: await desk.read(reading, processes) });
  });

  /** Moves a share of a context's calls to its extracted service (0 rolls back), the admin named in the log. */
  app.post('/api/migration/:context/shift', async (request, response) => {
    const { caller } = await adminOf(request);
    const { percent, expected, reason } = (request.body ?? {}) as Record<string, unknown>;
    if (typeof percent !== 'number' || (expected !== undefined && typeof expected !== 'number')) {
      throw new ConsoleProblem(
        400,
        'validation-failed',
        'give the share as {"percent": 0-100}, and the share you saw as "expected" (0-100)',
      );
    }
    const change = await desk.shift({
      context: contextOf(request),
      percent,
      expected,
      ...changedBy(caller, reason),
    });
    response.json({ change: changeOf(change) });
  });

  /** Turns shadowing of a context's reads on or off, the admin named in the log. */
  app.post('/api/migration/:context/shadow', async (request, response) => {
    const { caller } = await adminOf(request);
    const { on, expected, reason } = (request.body ?? {}) as Record<string, unknown>;
    if (typeof on !== 'boolean' || (expected !== undefined && typeof expected !== 'boolean')) {
      throw new ConsoleProblem(400, 'validation-failed', 'give {"on": true|false}, and what you saw as "expected"');
    }
    const change = await desk.shadow({
      context: contextOf(request),
      on,
      expected,
      ...changedBy(caller, reason),
    });
    response.json({ change: changeOf(change) });
  });

  /** An admin as the logs name them: the email they signed in with here, or their id. */
  const nameOf = (subject: string) => emails.get(subject) ?? `admin ${subject}`;
  /** Who made a change through the console, and why, as its log keeps them. */
  const changedBy = (caller: Caller, reason: unknown) => ({
    by: `${nameOf(caller.subject)} (ficus console)`,
    reason: reasonOf(reason),
  });

  /** Outbox backlogs, consumers and their lag, and every process's dead letters (read as the admin). */
  app.get('/api/messaging', async (request, response) => {
    const { token } = await adminOf(request);
    const reading = await maps.read();
    const messaging = await messages.read(reading.samples, token);
    const named = (letter: ConsoleDeadLetter) => ({
      ...letter,
      replayedBy: letter.replayedBy && nameOf(letter.replayedBy),
    });
    response.json({
      topology: reading.map.topology,
      ...messaging,
      deadLetters: {
        ...messaging.deadLetters,
        waiting: messaging.deadLetters.waiting.map(named),
        replayed: messaging.deadLetters.replayed.map(named),
      },
    });
  });

  /** Replays one dead letter (`:id`) or every one of a context not replayed yet, in the process that consumes it. */
  app.post(
    ['/api/dead-letters/:context/replay', '/api/dead-letters/:context/:id/replay'],
    async (request, response) => {
      const { token } = await adminOf(request);
      const context = contextOf(request);
      if (!options.topology.modules.includes(context)) {
        throw new ConsoleProblem(404, 'context-not-found', `${options.topology.name} runs no context ${context}`);
      }
      const id = request.params.id === undefined ? undefined : String(request.params.id);
      if (id !== undefined && !DEAD_LETTER_ID.test(id)) {
        throw new ConsoleProblem(400, 'validation-failed', 'a dead letter id is a number, as the list shows it');
      }
      const answer = await messages.replay(context, id, token);
      if (answer.status === 200 && answer.body) {
        response.json(answer.body);
        return;
      }
      throw problemOfProcess(answer, options.topology.targetOf(context).name);
    },
  );

  /** Every flag of every process that keeps flags: state, default, description and latest changes. */
  app.get('/api/flags', async (request, response) => {
    await adminOf(request);
    response.json({
      topology: { name: options.topology.name, source: options.topology.source },
      targets: await flagDesk.read(),
    });
  });

  /** Sets a flag of one process (`ficus flags set`), guarded by the state the page showed, the admin in its log. */
  app.post('/api/flags/:target/:flag', async (request, response) => {
    const { caller } = await adminOf(request);
    const { state, expected, reason } = (request.body ?? {}) as Record<string, unknown>;
    if (typeof state !== 'string' || typeof expected !== 'string' || state.length > 40 || expected.length > 40) {
      throw new ConsoleProblem(
        400,
        'validation-failed',
        'give {"state": "on" | "off" | "percent 30", "expected": the state the page showed}',
      );
    }
    const target = String(request.params.target);
    const flag = String(request.params.flag);
    if (!/^[a-z][a-z0-9-]{0,63}$/.test(target) || !FLAG_NAME_SHAPE.test(flag)) {
      throw new ConsoleProblem(
        400,
        'validation-failed',
        'a target is a lower-case name, a flag one such as notifications.new-confirmation-email',
      );
    }
    const change = await flagDesk.set({
      target,
      flag,
      state,
      expected,
      ...changedBy(caller, reason),
    });
    response.json({ change: changeOf(change) });
  });

  /** An order: its details, its saga step by step (which context did what), and its trace. */
  app.get('/api/orders/:id', async (request, response) => {
    const { token } = await adminOf(request);
    const id = idOf(request.params.id, 'an order id');
    const [details, timeline] = await Promise.all([
      shopGet(options.shopUrl, `/orders/${id}/details`, token),
      shopGet(options.shopUrl, `/orders/${id}/timeline`, token),
    ]);
    const saga = timeline as { status?: unknown; steps?: unknown; traceId?: unknown };
    if (typeof saga.status !== 'string' || !Array.isArray(saga.steps)) {
      throw new ConsoleProblem(502, 'shop-unavailable', 'the shop answered a timeline the console cannot read');
    }
    const traceId = typeof saga.traceId === 'string' && /^[\da-f]{32}$/.test(saga.traceId) ? saga.traceId : undefined;
    response.json({
      details,
      status: saga.status,
      timeline: (saga.steps as TimelineStep[]).map((step) => ({ ...step, ...SAGA_STEPS[String(step.step)] })),
      trace: traceId ? await traceOf(options, traceId) : undefined,
    });
  });

  /** A customer's orders, newest first, a page at a time (the shop's admin route). */
  app.get('/api/customers/:id/orders', async (request, response) => {
    const { token } = await adminOf(request);
    const id = idOf(request.params.id, 'a customer id');
    const page = /^[1-9]\d{0,3}$/.test(String(request.query.page ?? '')) ? Number(request.query.page) : 1;
    response.json(await shopGet(options.shopUrl, `/admin/customers/${id}/orders?page=${page}&pageSize=20`, token));
  });

  app.use((request, _response, next) => {
    next(new ConsoleProblem(404, 'not-found', `no ${request.method} ${request.path} here`));
  });
  app.use((error: unknown, request: Request, response: Response, _next: NextFunction) => {
    const status = clientErrorStatus(error);
    const problem =
      error instanceof ConsoleProblem
        ? error
        : error instanceof ConsoleRefusal
          ? new ConsoleProblem(error.status, error.code, error.message)
          : status === undefined
            ? new ConsoleProblem(500, 'internal', 'the console failed; its output says why')
            : isBodyError(error)
              ? new ConsoleProblem(status, 'malformed-json', 'the body is not JSON of at most 16 kB')
              : new ConsoleProblem(status, 'not-found', `no ${request.method} ${request.path} here`);
    if (problem.status === 500) console.error(error);
    if (problem.retryAfter) response.setHeader('Retry-After', problem.retryAfter);
    response
      .status(problem.status)
      .type('application/problem+json')
      .send(
        JSON.stringify({
          type: 'about:blank',
          title: problem.code.replace(/-/g, ' '),
          status: problem.status,
          code: problem.code,
          detail: problem.message,
          instance: request.path,
        }),
      );
  });

  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(options.port, options.host, (error?: Error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' ? '127.0.0.1' : options.host === '::' ? '[::1]' : options.host;
  return {
    // An IPv6 address goes in brackets in a URL.
    url: `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await stores.close();
    },
  };
}

/** A flag name's shape (infra/flags says the rest): lower-case words, dots and dashes, at most 100 characters. */
const FLAG_NAME_SHAPE = /^[a-z][a-z0-9.-]{0,99}$/;

/** The shop's refusals of a sign-in the console passes on as they are; any other answer is a 502. */
const PASSED_ON: ReadonlySet<number> = new Set([400, 401, 403, 422, 429]);

/** A POST of JSON to the shop, never following a redirect (it would carry the password elsewhere). */
function shopPost(shopUrl: string, path: string, body: unknown): Promise<globalThis.Response> {
  return fetch(new URL(path, shopUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    redirect: 'error',
    signal: AbortSignal.timeout(10_000),
  }).catch(() => {
    throw new ConsoleProblem(502, 'shop-unreachable', 'the shop does not answer; is it running?');
  });
}

/** The shop's refusals of a read the console passes on as they are; anything else but 200 is a 502 or 503. */
const READ_PASSED_ON: ReadonlySet<number> = new Set([400, 401, 403, 404, 422, 429]);

/** A GET of the shop's API as the admin (the shop checks their token and role again). */
async function shopGet(shopUrl: string, path: string, token: string): Promise<unknown> {
  const answer = await fetch(new URL(path, shopUrl), {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    redirect: 'error',
    signal: AbortSignal.timeout(10_000),
  }).catch(() => {
    throw new ConsoleProblem(502, 'shop-unreachable', 'the shop does not answer; is it running?');
  });
  const body = (await answer.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (answer.status === 200 && body !== undefined) return body;
  const retry = retryAfterOf(answer.headers.get('retry-after'));
  if (READ_PASSED_ON.has(answer.status)) {
    const detail = textOf(body?.detail) ?? 'the shop refused the read';
    throw new ConsoleProblem(answer.status, codeOf(body?.code, 'read-refused'), detail, retry);
  }
  if (answer.status === 503 || answer.status === 504) {
    const detail = textOf(body?.detail) ?? 'the shop cannot answer now; retry';
    throw new ConsoleProblem(503, 'shop-unavailable', detail, retry ?? '5');
  }
  throw new ConsoleProblem(502, 'shop-unavailable', `the shop could not answer (${answer.status})`);
}

/**
 * A process's refusal of a replay as the console answers it: its 4xx problem as it said it (the
 * letter gone, its consumer no longer running, the token refused), a 503 when it cannot answer now.
 */
function problemOfProcess(answer: ProcessAnswer, target: string): ConsoleProblem {
  const detail = textOf(answer.body?.detail);
  if (answer.status === 502 || answer.status === 504) {
    return new ConsoleProblem(answer.status, codeOf(answer.body?.code, 'process-unreachable'), detail ?? target);
  }
  // The console took the admin's token, the process did not (other claims, keys it has not read
  // yet): the console's own sign-in still stands, so this is no 401 that would sign them out.
  if (answer.status === 401 || answer.status === 403) {
    const why = detail ?? `it answered ${answer.status}`;
    return new ConsoleProblem(502, 'process-refused-token', `${target} refused the admin's token: ${why}`);
  }
  if (answer.status >= 400 && answer.status < 500 && answer.status !== 405) {
    return new ConsoleProblem(
      answer.status,
      codeOf(answer.body?.code, 'replay-refused'),
      detail ?? `${target} refused`,
    );
  }
  const retry = retryAfterOf(answer.retryAfter ?? null) ?? '5';
  return new ConsoleProblem(
    503,
    'process-unavailable',
    `${target} cannot replay now (it answered ${answer.status})`,
    retry,
  );
}

/** A Retry-After of seconds worth passing on, or undefined. */
function retryAfterOf(value: string | null): string | undefined {
  return value && /^\d{1,6}$/.test(value) ? value : undefined;
}

/** The context a migration change names: a lower-case word (the desk says whether the topology has it). */
function contextOf(request: Request): string {
  const context = String(request.params.context);
  if (!/^[a-z][a-z0-9-]{0,63}$/.test(context)) {
    throw new ConsoleProblem(400, 'validation-failed', 'a context is a lower-case name such as inventory');
  }
  return context;
}

/** Why, for the flag log: one line of text of at most 500 characters, or none. */
function reasonOf(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ConsoleProblem(400, 'validation-failed', 'a reason is text');
  return printable(value).trim().slice(0, 500) || undefined;
}

/** Text without control characters (line breaks, terminal escapes): the flag log is printed by `ficus flags`. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is taken out
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
}

function changeOf(change: FlagChange) {
  return {
    flag: change.name,
    from: change.from ? formatFlagState(change.from) : null,
    to: formatFlagState(change.to),
    by: change.by,
    at: change.at.toISOString(),
  };
}

/** A path parameter that must be a UUID (the shop's ids); anything else is refused here, not sent on. */
function idOf(value: unknown, what: string): string {
  const text = String(value);
  if (!/^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i.test(text)) {
    throw new ConsoleProblem(400, 'validation-failed', `give ${what}: a UUID such as 0b6e…-…`);
  }
  return text.toLowerCase();
}

interface TimelineStep {
  readonly step: string;
  readonly at: string;
  readonly detail?: Record<string, unknown>;
}

/**
 * Which context each saga step reports, and what kind of step it is: the order's own events,
 * the outcomes other contexts answered with, and the compensations that undo one.
 */
const SAGA_STEPS: Readonly<Record<string, { context: string; kind: 'step' | 'compensation' | 'outcome' }>> = {
  ORDER_CREATED: { context: 'ordering', kind: 'step' },
  STOCK_RESERVED: { context: 'inventory', kind: 'step' },
  OUT_OF_STOCK: { context: 'inventory', kind: 'outcome' },
  PAYMENT_COMPLETED: { context: 'payments', kind: 'step' },
  PAYMENT_FAILED: { context: 'payments', kind: 'outcome' },
  STOCK_RELEASED: { context: 'inventory', kind: 'compensation' },
  SHIPMENT_CREATED: { context: 'shipping', kind: 'step' },
  ORDER_CONFIRMED: { context: 'ordering', kind: 'outcome' },
  ORDER_FAILED: { context: 'ordering', kind: 'outcome' },
};

/** A trace as the console shows it: the spans the processes still keep, and where the backend has it. */
export interface ConsoleTrace {
  readonly traceId: string;
  readonly spans: readonly KeptSpan[];
  /** The targets that keep spans (FICUS_TRACE_BUFFER), and those that did not answer. */
  readonly keptBy: readonly string[];
  readonly unreachable: readonly string[];
  /** The trace in the tracing backend, when the console was given its address. */
  readonly link?: string;
}

/** Asks every process for the spans of one trace it still keeps (its operations port's /traces/<id>). */
async function traceOf(options: ConsoleOptions, traceId: string): Promise<ConsoleTrace> {
  const answers = await Promise.all(
    options.topology.targets.map(async (target) => {
      try {
        const answer = await fetch(`${operationsUrlOf(target)}/traces/${traceId}`, {
          signal: AbortSignal.timeout(2_000),
          redirect: 'error',
        });
        if (answer.status !== 200) return { target: target.name, answered: false as const };
        const body = (await answer.json()) as { kept?: unknown; spans?: unknown };
        const spans = drawableSpans(body.spans);
        return { target: target.name, answered: true as const, kept: body.kept === true, spans };
      } catch {
        return { target: target.name, answered: false as const };
      }
    }),
  );
  // Two targets on one operations address (one process) answer the same spans: each once.
  const spans = [
    ...new Map(answers.flatMap((answer) => (answer.answered ? answer.spans : [])).map((s) => [s.spanId, s])).values(),
  ].sort((a, b) => a.startMs - b.startMs);
  return {
    traceId,
    spans,
    keptBy: answers.flatMap((answer) => (answer.answered && answer.kept ? [answer.target] : [])),
    unreachable: answers.flatMap((answer) => (answer.answered ? [] : [answer.target])),
    ...(options.traceUrl ? { link: options.traceUrl.replaceAll('{traceId}', traceId) } : {}),
  };
}

/**
 * The spans of a process's /traces answer that the page can draw, as it draws them: what a process
 * answers is trusted no further than its types (an older or a foreign process may answer otherwise).
 */
export function drawableSpans(spans: unknown): KeptSpan[] {
  return Array.isArray(spans) ? spans.filter(isKeptSpan).map(withFewEvents) : [];
}

/** A span as a process's /traces answers it: the fields the page draws, of the types it draws them with. */
function isKeptSpan(value: unknown): value is KeptSpan {
  const span = value as Partial<KeptSpan> | null;
  return (
    typeof span?.spanId === 'string' &&
    typeof span.traceId === 'string' &&
    typeof span.name === 'string' &&
    typeof span.service === 'string' &&
    Number.isFinite(span.startMs) &&
    Number.isFinite(span.durationMs) &&
    (span.parentSpanId === undefined || typeof span.parentSpanId === 'string') &&
    (span.events === undefined ||
      (Array.isArray(span.events) &&
        span.events.every((event) => typeof event?.name === 'string' && Number.isFinite(event.atMs)))) &&
    (span.eventsNotKept === undefined || (Number.isSafeInteger(span.eventsNotKept) && span.eventsNotKept > 0))
  );
}

/**
 * A span's events as the page draws them: as few, and as short, as a process keeps them
 * (KEPT_SPAN_LIMITS), and how many it had beyond those.
 */
function withFewEvents(span: KeptSpan): KeptSpan {
  if (!span.events) return span;
  const { events: most, textLength } = KEPT_SPAN_LIMITS;
  const notKept = Math.max(span.events.length - most, 0) + (span.eventsNotKept ?? 0);
  return {
    ...span,
    events: span.events.slice(0, most).map(({ name, atMs }) => ({ name: name.slice(0, textLength), atMs })),
    ...(notKept > 0 ? { eventsNotKept: notKept } : {}),
  };
}

/** The shop's problem code when it is one (a short kebab-case word), else a code of ours. */
function codeOf(value: unknown, otherwise = 'sign-in-refused'): string {
  return typeof value === 'string' && /^[a-z][a-z0-9-]{0,63}$/.test(value) ? value : otherwise;
}

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, 500) : undefined;
}

/** How long one reading of the map serves every page that asks (each polls every few seconds). */
const MAP_FRESH_MS = 1_000;

/** One reading of the processes: the map, and each answering target's metrics it was drawn from. */
interface Reading {
  readonly map: ConsoleMap;
  readonly samples: ReadonlyMap<string, readonly MetricSample[]>;
}

/**
 * The map as the processes answer now: read at most once a second however many pages poll, and
 * each edge's calls per second since the reading before (two readings make a rate; the first
 * shows totals).
 */
class MapReader {
  private previous?: { readonly counts: CallCounts; readonly at: number };
  private latest?: { readonly reading: Promise<Reading>; readonly at: number };
  private readonly history: Array<{ readonly at: number; readonly edges: Record<string, EdgePoint> }> = [];

  constructor(private readonly options: ConsoleOptions) {}

  read(): Promise<Reading> {
    const now = Date.now();
    if (this.latest && now - this.latest.at < MAP_FRESH_MS) return this.latest.reading;
    const reading = this.readNow();
    this.latest = { reading, at: now };
    return reading;
  }

  private async readNow(): Promise<Reading> {
    const { topology, graph } = this.options;
    const scraped = await Promise.all(topology.targets.map((target) => scrapeProcess(target)));
    const processes = topology.targets.map((target, at) => {
      const answer = scraped[at];
      return answer ? processStateOf(target, answer.ready, answer.samples) : unreachableProcess(target);
    });
    const answered = scraped.flatMap((answer) => (answer ? [answer.samples] : []));
    let rates: CallRates | undefined;
    if (answered.length > 0) {
      const counts = countCalls(answered);
      const at = Date.now();
      const sources = topology.targets.filter((_, index) => scraped[index]).map(operationsUrlOf);
      const before = this.previous;
      const seconds = before ? (at - before.at) / 1_000 : 0;
      rates = attributeCalls(graph, before?.counts ?? counts, counts, seconds, sources, consumerLag(graph, answered));
      if (before && seconds > 0) this.remember(at, rates);
      this.previous = { counts, at };
    }
    const map: ConsoleMap = {
      topology: { name: topology.name, source: topology.source },
      processes,
      svg: await renderSvg(renderDot(graph, rates)),
      ...(rates ? { calls: rates.edges } : { callsUnavailable: 'no process answers' }),
      series: this.series(),
    };
    const samples = new Map(
      topology.targets.flatMap((target, index) => {
        const answer = scraped[index];
        return answer ? [[target.name, answer.samples] as const] : [];
      }),
    );
    return { map, samples };
  }

  /** One point of every edge that carried calls between two readings. */
  private remember(at: number, rates: CallRates): void {
    const edges: Record<string, EdgePoint> = {};
    for (const [key, calls] of Object.entries(rates.edges)) {
      if (!calls.perSecond) continue;
      edges[key] = {
        perSecond: calls.perSecond,
        failingPercent: calls.failingPercent ?? 0,
        meanMs: calls.meanMs ?? null,
      };
    }
    this.history.push({ at: Math.round(at / 100) / 10, edges });
    if (this.history.length > SERIES_LENGTH) this.history.shift();
  }

  private series(): ConsoleSeries {
    const keys = [...new Set(this.history.flatMap((point) => Object.keys(point.edges)))].sort();
    const column = (key: string, field: keyof EdgePoint) =>
      this.history.map((point) => point.edges[key]?.[field] ?? null);
    return {
      at: this.history.map((point) => point.at),
      edges: Object.fromEntries(
        keys.map((key) => [
          key,
          {
            perSecond: column(key, 'perSecond'),
            failingPercent: column(key, 'failingPercent'),
            meanMs: column(key, 'meanMs'),
          },
        ]),
      ),
    };
  }
}

interface EdgePoint {
  readonly perSecond: number;
  readonly failingPercent: number;
  readonly meanMs: number | null;
}

class ConsoleProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    /** Seconds, for a Retry-After header. */
    readonly retryAfter?: string,
  ) {
    super(detail);
  }
}

/** The 4xx status an error carries (the JSON parser's refusals, a file not found), if any. */
function clientErrorStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/** An error of the JSON body parser (malformed, too large, an unknown charset). */
function isBodyError(error: unknown): boolean {
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type === 'string' && /^(entity|encoding|charset|request)\./.test(type);
}
