import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/** How often the shop's keys are read again, and the least time between two reads for an unknown key. */
const REFRESH_MS = 10 * 60_000;
const UNKNOWN_KEY_COOLDOWN_MS = 30_000;

/** The shop's keys could not be read, and none were read before: the console cannot check a token. */
export class ShopKeysUnavailable extends Error {
  override readonly name = 'ShopKeysUnavailable';
}

/**
 * The shop's signing keys (its `/.well-known/jwks.json`), as the console checks admins' tokens
 * with them. Unlike jose's remote key set, the last keys read keep serving while the shop does
 * not answer: the console must go on working when the edge is the process that is down. They are
 * read again every ten minutes, and at once (at most every 30 s) for a key they do not hold.
 */
export class ShopKeys {
  private keys?: { readonly set: JWTVerifyGetKey; readonly kids: ReadonlySet<string>; readonly at: number };
  private reading?: Promise<void>;
  private lastUnknownRead = 0;

  constructor(private readonly jwksUrl: URL) {}

  /** A key getter for jose's `jwtVerify`. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const stale = !this.keys || Date.now() - this.keys.at > REFRESH_MS;
    const unknown =
      this.keys && header.kid !== undefined && !this.keys.kids.has(header.kid) && this.mayReadForUnknownKey();
    if (stale || unknown) await this.read();
    if (!this.keys) throw new ShopKeysUnavailable(`cannot read the shop's keys at ${this.jwksUrl.origin}`);
    return this.keys.set(header, token);
  };

  private mayReadForUnknownKey(): boolean {
    if (Date.now() - this.lastUnknownRead < UNKNOWN_KEY_COOLDOWN_MS) return false;
    this.lastUnknownRead = Date.now();
    return true;
  }

  /** Reads the keys (one read at a time); a failed read keeps the keys read before. */
  private read(): Promise<void> {
    this.reading ??= fetch(this.jwksUrl, { signal: AbortSignal.timeout(5_000), redirect: 'error' })
      .then(async (answer) => {
        if (answer.status !== 200) throw new Error(`the shop's keys answered ${answer.status}`);
        const jwks = (await answer.json()) as JSONWebKeySet;
        const kids = new Set(jwks.keys.flatMap((key) => (typeof key.kid === 'string' ? [key.kid] : [])));
        this.keys = { set: createLocalJWKSet(jwks), kids, at: Date.now() };
      })
      .catch(() => {
        // The keys read before keep serving (none: ShopKeysUnavailable); another read in 30 s.
        if (this.keys) this.keys = { ...this.keys, at: Date.now() - REFRESH_MS + UNKNOWN_KEY_COOLDOWN_MS };
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }
}
