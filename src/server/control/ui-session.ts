import { randomBytes, timingSafeEqual } from 'node:crypto';

export const UI_COOKIE_NAME = 'bb_ui';

/** Link tokens not redeemed within this time are forgotten (a printed link is used at once or not at all). */
const LINK_TOKEN_LIFETIME_MS = 24 * 60 * 60_000;
const MAX_LINK_TOKENS = 32;

function secret(): string {
  return randomBytes(32).toString('base64url');
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The window's credential for one launch: a session value (the HttpOnly cookie) and single-use link
 * tokens that are exchanged for it. Neither ever goes to a log; a redeemed token is gone.
 */
export class UiSessions {
  readonly #session = secret();
  readonly #linkTokens = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The cookie value the window presents (Electron's main sets it on the window's session directly). */
  get sessionValue(): string {
    return this.#session;
  }

  /** A new single-use token for a `/ui/?token=` link. */
  issueLinkToken(): string {
    const now = this.#now();
    for (const [token, issuedAt] of this.#linkTokens) {
      if (now - issuedAt > LINK_TOKEN_LIFETIME_MS || this.#linkTokens.size >= MAX_LINK_TOKENS) this.#linkTokens.delete(token);
    }
    const token = secret();
    this.#linkTokens.set(token, now);
    return token;
  }

  /** True once per issued token (then it is forgotten); false for unknown, expired or reused ones. */
  redeem(token: string): boolean {
    for (const [known, issuedAt] of this.#linkTokens) {
      if (!sameSecret(token, known)) continue;
      this.#linkTokens.delete(known);
      return this.#now() - issuedAt <= LINK_TOKEN_LIFETIME_MS;
    }
    return false;
  }

  /** Whether a cookie value is this launch's session. */
  accepts(cookieValue: string | undefined): boolean {
    return cookieValue !== undefined && sameSecret(cookieValue, this.#session);
  }
}
