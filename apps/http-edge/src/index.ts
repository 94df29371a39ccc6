export { HttpEdgeModule } from './http-edge.module';
export { httpEdgeAdapter, setUpHttpEdge } from './http-edge.setup';
export { HealthModule } from './health.module';
export { serveOperations, type OperationsEndpoint, type RunningOperations } from './operations/operations-server';
export { problemOfContractError, type Problem } from './problem/problem';
export { admissionGate, type AdmissionLimits } from './admission/admission-gate';
export { JwksModule } from './routes/jwks.controller';
export { AccessTokenVerifier } from './auth/access-token.verifier';
export { RequestContexts } from './request-context';
