export { ACCESS_TOKEN_ALGORITHMS, verifyAccessToken, type AccessTokenRules } from './access-token';
