export { HttpEdgeModule } from './http-edge.module';
export { httpEdgeAdapter, setUpHttpEdge } from './http-edge.setup';
export { HEALTH_SETTINGS, HealthModule } from './health.module';
export { drainOnStop } from './admission/http-drain';
export { serveOperations, type OperationsEndpoint, type RunningOperations } from './operations/operations-server';
export { problemOfContractError, type Problem } from './problem/problem';
export { admissionGate, OPERATIONS_PROBES, PUBLIC_PROBES, type AdmissionLimits } from './admission/admission-gate';
export { boundedJsonBodies } from './admission/body-reads';
export { JwksModule } from './routes/jwks.controller';
export { SubgraphServingModule } from './graphql/subgraph-serving';
export { AccessTokenVerifier } from './auth/access-token.verifier';
export { RequestContexts } from './request-context';
export { RateLimiter } from './rate-limit/rate-limiter';
export type { RateLimitClock } from './rate-limit/rate-limit.store';
export {
  checkPublicUrlForLegacy,
  HttpSettings,
  legacyUpstreamOf,
  RequestSettings,
  VerifierClaimsSettings,
} from './http-settings';
export { RateLimitSettings } from './rate-limit/rate-limit.config';
export { StreamSettings } from './admission/stream-admission';
