// The signed-in session's tokens: the access token, the refresh token that renews it before it
// expires, and a copy in a Storage (sessionStorage in a page) so a reload keeps the session.

import { ProblemError } from './problem.js';

const STORAGE_KEY = 'taskpulse.session';
// Renew when this share of the access token's lifetime has passed (about 4 minutes before it
// expires with the server's default 15), so live sessions take the new token in time.
const RENEW_AT = 0.75;
// After a renewal that failed for want of a network, while the access token still lives.
const RETRY_RENEWAL_MS = 5_000;
/** What every personal access token starts with. */
export const PERSONAL_TOKEN_PREFIX = 'tp_pat_';

/** Seconds-since-epoch `exp` of a JWT, or null when it cannot be read. */
export function tokenExpiry(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const exp = JSON.parse(atob(payload)).exp;
    return Number.isFinite(exp) ? exp : null;
  } catch {
    return null;
  }
}

/**
 * Emits `token` (a new access token is in use: live sessions take it in band) and `signedout`
 * (the session is over: the refresh token was refused, or a pasted access token expired).
 */
export class Tokens extends EventTarget {
  #renew;
  #storage;
  #access = null;
  #refresh = null;
  #expiresAt = 0; // ms since epoch
  #renewAt = 0; // ms since epoch
  #timer = null;
  #renewing = null;

  /**
   * @param {(refreshToken: string) => Promise<{access_token: string, refresh_token: string, expires_in: number}>} renew
   * @param {Storage | null} storage where the session survives a reload, or nowhere
   */
  constructor(renew, storage = null) {
    super();
    this.#renew = renew;
    this.#storage = storage;
  }

  get accessToken() { return this.#access; }
  get refreshToken() { return this.#refresh; }
  get signedIn() { return this.#access !== null || this.#refresh !== null; }

  /** Picks up the session kept in storage; true when there was one. */
  restore() {
    try {
      const saved = JSON.parse(this.#storage?.getItem(STORAGE_KEY) ?? 'null');
      if (saved?.access && saved.expiresAt > Date.now()) {
        this.#adopt(saved.access, saved.refresh ?? null, saved.expiresAt);
        return true;
      }
      if (saved?.refresh) {
        this.#refresh = saved.refresh; // the first call renews
        return true;
      }
    } catch {
      // Storage may be disabled: signing in again is enough.
    }
    return false;
  }

  /** Takes the token pair of a register, login or refresh answer. */
  adopt(pair) {
    this.#adopt(pair.access_token, pair.refresh_token ?? null, Date.now() + pair.expires_in * 1000);
  }

  /**
   * Takes a bare access token (no refresh token: it lives until it expires), or a personal
   * access token (`tp_pat_…`), whose expiry only the server knows: it is used until the server
   * refuses it.
   */
  adoptAccessToken(token) {
    if (token.startsWith(PERSONAL_TOKEN_PREFIX)) {
      this.#adopt(token, null, Infinity);
      return;
    }
    const exp = tokenExpiry(token);
    if (exp === null) throw new ProblemError(400, { detail: 'this is not a JSON Web Token' });
    if (exp * 1000 <= Date.now()) throw new ProblemError(401, { detail: 'this token has expired' });
    this.#adopt(token, null, exp * 1000);
  }

  /**
   * An access token valid for a while yet, renewed first when it is (nearly) expired; null
   * when the session is over.
   */
  async fresh() {
    if (this.#access && Date.now() < this.#renewAt) return this.#access;
    if (!this.#refresh) {
      if (this.#access && this.#expiresAt > Date.now()) return this.#access;
      this.#end();
      return null;
    }
    try {
      await this.renewNow();
      return this.#access;
    } catch {
      return this.#access && this.#expiresAt > Date.now() ? this.#access : null;
    }
  }

  /** Renews the pair now, once at a time. */
  renewNow() {
    this.#renewing ??= (async () => {
      try {
        this.adopt(await this.#renew(this.#refresh));
      } catch (err) {
        // A refused refresh token (reused, revoked, expired) ends the session; anything else
        // (no network) is tried again while the access token lives.
        if (err instanceof ProblemError && err.status === 401) this.#end();
        else this.#schedule(RETRY_RENEWAL_MS);
        throw err;
      } finally {
        this.#renewing = null;
      }
    })();
    return this.#renewing;
  }

  /** Stops the renewal timer, keeping the tokens (a process that is done with them). */
  close() {
    clearTimeout(this.#timer);
  }

  /** Forgets the session (no event); answers the refresh token it held. */
  clear() {
    const refresh = this.#refresh;
    clearTimeout(this.#timer);
    this.#access = null;
    this.#refresh = null;
    this.#expiresAt = 0;
    this.#renewAt = 0;
    try {
      this.#storage?.removeItem(STORAGE_KEY);
    } catch {
      // Nothing was kept.
    }
    return refresh;
  }

  #adopt(access, refresh, expiresAt) {
    this.#access = access;
    this.#refresh = refresh;
    this.#expiresAt = expiresAt;
    const now = Date.now();
    this.#renewAt = now + (expiresAt - now) * RENEW_AT;
    try {
      this.#storage?.setItem(STORAGE_KEY, JSON.stringify({ access, refresh, expiresAt }));
    } catch {
      // Not kept across reloads then.
    }
    if (refresh) this.#schedule(Math.max(this.#renewAt - now, 0));
    // No timer for a token without a known end (setTimeout would fire at once on Infinity).
    else if (Number.isFinite(expiresAt)) this.#schedule(Math.max(expiresAt - now, 0), () => this.#end());
    else clearTimeout(this.#timer);
    this.dispatchEvent(new Event('token'));
  }

  #schedule(delay, action = () => this.renewNow().catch(() => {})) {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(action, delay);
  }

  #end() {
    if (!this.#access && !this.#refresh) return;
    this.clear();
    this.dispatchEvent(new Event('signedout'));
  }
}
