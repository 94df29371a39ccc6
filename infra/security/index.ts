export { ACCESS_TOKEN_ALGORITHMS, remoteCallerVerifier, verifyAccessToken, type AccessTokenRules } from './access-token';
