/**
 * The headers every rate-limited answer carries (draft-ietf-httpapi-ratelimit-headers, as
 * RateLimitMiddleware sets them); CORS exposes them to a listed origin's scripts. A module of its
 * own: the settings read CORS's, and the middleware imports the routes.
 */
export const RATE_LIMIT_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy'];
