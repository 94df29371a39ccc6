import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { readProcessEnv } from '@infra/runtime';
import { admissionGate, type AdmissionLimits } from './admission/admission-gate';
import { requestIdOf } from './request-context';
import { applyCorsAllowList, corsOriginsFromEnv } from './security/cors-allow-list';
import { httpTelemetry } from './telemetry/http-telemetry';

export const BODY_LIMIT = '64kb';

/**
 * What every HTTP edge sets up before it listens, in this order: the request id echoed back,
 * security headers (helmet) and the CORS allow-list — first, so that even a shed request's 503
 * carries them and a browser may read its Retry-After —, the server span and RED metrics, admission
 * control (load shedding, before any parsing, so a shed request costs almost nothing), then a
 * strict JSON body parser with a size limit; and no framework banner.
 */
export function setUpHttpEdge(app: INestApplication, limits: AdmissionLimits = admissionLimitsFromEnv()): void {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  express.use((request: Request, response: Response, next: NextFunction) => {
    response.setHeader('X-Request-Id', requestIdOf(request));
    next();
  });
  express.use(helmet()); // security headers (docs/security.md)
  applyCorsAllowList(express, corsOriginsFromEnv()); // FICUS_CORS_ORIGINS; none: no CORS headers
  express.use(httpTelemetry());
  express.use(admissionGate(limits));
  express.useBodyParser('json', { limit: BODY_LIMIT, strict: true, type: ['application/json', 'application/*+json'] });
}

function admissionLimitsFromEnv(): AdmissionLimits {
  const env = readProcessEnv();
  return { maxConcurrent: env.FICUS_HTTP_MAX_CONCURRENT, maxQueued: env.FICUS_HTTP_MAX_QUEUED };
}
