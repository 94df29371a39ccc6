import { z } from 'zod';
import { AccessTokenClaimVariables, accessTokenClaimsOf } from '@contracts/identity';
import {
  commaSeparated,
  Configuration,
  ConfigurationError,
  defineSettings,
  optionalHttpUrl,
  RunModeSettings,
  unsetWhenEmpty,
  wholeNumber,
} from '@infra/config';
import type { LegacyUpstream } from '@infra/topology';
import type { AdmissionLimits } from './admission/admission-gate';
import type { BodyReadLimits } from './admission/body-reads';
import { parseCorsOrigins } from './security/cors-allow-list';
import { parseTrustedProxies } from './security/trusted-proxies';

/** How long a request's contract calls may take, in every process that takes requests (the edge, a JWKS route). */
export const RequestSettings = defineSettings(
  'http: request budget',
  { FICUS_REQUEST_BUDGET_MS: wholeNumber({ min: 100, max: 600_000, default: 10_000, unit: 'milliseconds' }) },
  (values) => ({ budgetMs: values.FICUS_REQUEST_BUDGET_MS }),
);
export type RequestOptions = ReturnType<typeof RequestSettings.read>;

/**
 * The `iss` identity signs and the `aud` it addresses (FICUS_JWT_ISSUER, FICUS_JWT_AUDIENCE), as
 * whoever verifies an access token reads them: the edge, and a service verifying a relayed one.
 * Identity reads the same variables, in one process or in two.
 */
export const VerifierClaimsSettings = defineSettings(
  'http: access-token claims',
  AccessTokenClaimVariables,
  accessTokenClaimsOf,
);

export interface HttpOptions {
  readonly admission: Omit<AdmissionLimits, 'abortedHoldMs'>;
  readonly bodyReads: BodyReadLimits;
  /** FICUS_LEGACY_URL and FICUS_LEGACY_ROUTES, for an edge whose topology names no legacy upstream. */
  readonly legacy?: { readonly url: string; readonly routes: readonly string[] };
  /**
   * FICUS_PUBLIC_URL: the shop's public address, which the legacy application is told as
   * X-Forwarded-Host, -Proto and -Port (unset: the request's own Host, and http).
   */
  readonly publicUrl?: string;
  readonly corsOrigins: readonly string[];
  /** FICUS_HTTP_TRACEPARENT=continue: a trusted proxy in front sets `traceparent`, so it is continued. */
  readonly continueClientTraces: boolean;
  /** FICUS_TRUSTED_PROXIES: the proxies whose X-Forwarded-For names the client (none: the socket's peer is). */
  readonly trustedProxies: readonly string[];
}

/** What every HTTP listener of ficus is set up with (`setUpHttpEdge`). */
export const HttpSettings = defineSettings(
  'http',
  {
    /** Admission control: requests served at once, and how many may wait. */
    FICUS_HTTP_MAX_CONCURRENT: wholeNumber({ min: 1, max: 10_000, default: 64, unit: 'requests' }),
    FICUS_HTTP_MAX_QUEUED: wholeNumber({ min: 0, max: 100_000, default: 128, unit: 'requests' }),
    /** Request bodies being read at once (before admission), in all and per client: at most 64 KB each. */
    FICUS_HTTP_MAX_BODIES_READING: wholeNumber({ min: 1, max: 100_000, default: 1_024, unit: 'requests' }),
    FICUS_HTTP_MAX_BODIES_READING_PER_CLIENT: wholeNumber({ min: 1, max: 100_000, default: 64, unit: 'requests' }),
    /** The application ficus replaces: what the edge does not serve is proxied there (the topology's `legacy` wins). */
    FICUS_LEGACY_URL: z.preprocess(
      unsetWhenEmpty,
      z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    ),
    /** The shop's public address: the one the legacy application is told requests came to. */
    FICUS_PUBLIC_URL: optionalHttpUrl(),
    /** Path prefixes sent to the legacy application even where ficus has a route, comma-separated. */
    FICUS_LEGACY_ROUTES: z
      .string()
      .default('')
      .transform(commaSeparated)
      .pipe(z.array(z.string().regex(/^\//, { error: 'each prefix starts with "/"' }))),
    FICUS_CORS_ORIGINS: listReadBy(parseCorsOrigins),
    FICUS_TRUSTED_PROXIES: listReadBy(parseTrustedProxies),
    FICUS_HTTP_TRACEPARENT: z.preprocess(
      (value) => (typeof value === 'string' ? value.trim().toLowerCase() || undefined : value),
      z.enum(['link', 'continue'], { error: 'must be "link" (the default) or "continue"' }).default('link'),
    ),
  },
  (values): HttpOptions => ({
    admission: { maxConcurrent: values.FICUS_HTTP_MAX_CONCURRENT, maxQueued: values.FICUS_HTTP_MAX_QUEUED },
    bodyReads: {
      maxReading: values.FICUS_HTTP_MAX_BODIES_READING,
      maxReadingPerClient: values.FICUS_HTTP_MAX_BODIES_READING_PER_CLIENT,
    },
    legacy: values.FICUS_LEGACY_URL ? { url: values.FICUS_LEGACY_URL, routes: values.FICUS_LEGACY_ROUTES } : undefined,
    publicUrl: values.FICUS_PUBLIC_URL,
    corsOrigins: values.FICUS_CORS_ORIGINS,
    continueClientTraces: values.FICUS_HTTP_TRACEPARENT === 'continue',
    trustedProxies: values.FICUS_TRUSTED_PROXIES,
  }),
);

/** A deploy target as far as its legacy upstream goes. */
type LegacyTarget = { readonly edge: boolean; readonly legacy?: LegacyUpstream };

/**
 * The legacy application a target stands in front of: its topology's, or FICUS_LEGACY_URL's, and
 * only for an edge. A process that is no edge reads FICUS_LEGACY_URL from a shared environment and
 * uses nothing of it.
 */
export function legacyUpstreamOf(target: LegacyTarget, http: HttpOptions): LegacyUpstream | undefined {
  return target.edge ? (target.legacy ?? http.legacy) : undefined;
}

/**
 * An edge in front of a legacy application (`legacyUpstreamOf`) needs FICUS_PUBLIC_URL in
 * production. Called before the process starts anything.
 */
export function checkPublicUrlForLegacy(configuration: Configuration, target: LegacyTarget): void {
  const http = configuration.get(HttpSettings);
  if (!legacyUpstreamOf(target, http) || http.publicUrl || !configuration.get(RunModeSettings).production) return;
  throw new ConfigurationError([
    { variable: 'FICUS_PUBLIC_URL', message: PUBLIC_URL_FOR_LEGACY, group: HttpSettings.group },
  ]);
}

/** Why production needs FICUS_PUBLIC_URL in front of a legacy application. */
const PUBLIC_URL_FOR_LEGACY =
  'is required with NODE_ENV=production and a legacy upstream: the address the legacy application ' +
  'builds its links from (X-Forwarded-Host and -Proto), which otherwise any client could name';

/**
 * An optional comma-separated list, its entries trimmed and read by `parse`, whose `{ error }`
 * becomes the variable's issue.
 */
function listReadBy(parse: (entries: readonly string[]) => string[] | { error: string }) {
  return z
    .string()
    .optional()
    .transform((value, context) => {
      const parsed = parse(commaSeparated(value ?? ''));
      if (Array.isArray(parsed)) return parsed;
      context.addIssue({ code: 'custom', message: parsed.error });
      return z.NEVER;
    });
}
