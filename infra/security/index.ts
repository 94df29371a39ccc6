export {
  ACCESS_TOKEN_ALGORITHMS,
  verifyAccessToken,
  verifyAccessTokenFully,
  VerifiedTokens,
  type AccessTokenRules,
  type VerifiedAccessToken,
} from './access-token';
export { KeyEncryption, KeyEncryptionError, KeyEncryptionSettings } from './key-encryption';
export { addressCounterOf, canonicalAddress, IPV6_CLIENT_PREFIX } from './client-address';
