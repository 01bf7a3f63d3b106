// The signed-in session: the token pair, its refresh before the access token expires, and the
// REST calls of the page (same origin, bearer token, problem+json errors).

const STORAGE_KEY = 'taskpulse.dashboard.session';
// Refresh when this share of the access token's lifetime has passed (about 4 minutes before
// it expires with the default 15).
const REFRESH_AT = 0.75;

/** A failed REST call, with the problem+json body when there is one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `request failed with status ${status}`);
    this.status = status;
    this.code = problem?.code ?? null;
  }
}

/** Seconds-since-epoch `exp` of a JWT, or null when it cannot be read. */
function tokenExpiry(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const exp = JSON.parse(atob(payload)).exp;
    return Number.isFinite(exp) ? exp : null;
  } catch {
    return null;
  }
}

/**
 * Holds the tokens. Emits `token` (a new access token is in use) and `signedout` (the
 * session ended: logout, or the access token expired and could not be refreshed).
 */
export class Session extends EventTarget {
  #access = null;
  #refresh = null;
  #expiresAt = 0; // ms since epoch
  #refreshAt = 0; // ms since epoch
  #timer = null;
  #refreshing = null;

  get signedIn() { return this.#access !== null; }
  get accessToken() { return this.#access; }
  get canRefresh() { return this.#refresh !== null; }

  /** Picks up a session this tab had before a reload. */
  restore() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null');
      if (saved?.access && saved.expiresAt > Date.now()) {
        this.#adopt(saved.access, saved.refresh, saved.expiresAt);
        return true;
      }
      if (saved?.refresh) {
        this.#refresh = saved.refresh;
        return true; // the first call refreshes
      }
    } catch {
      // Storage may be disabled; signing in again is enough.
    }
    return false;
  }

  /** POST /api/v1/auth/login. */
  async login(email, password) {
    const answer = await this.#post('/api/v1/auth/login', { email, password });
    this.#adoptAnswer(answer);
  }

  /** Uses a pasted access token (no refresh token: it lives until it expires). */
  async useToken(token) {
    const exp = tokenExpiry(token);
    if (exp === null) throw new ApiError(400, { detail: 'this is not a JSON Web Token' });
    if (exp * 1000 <= Date.now()) throw new ApiError(401, { detail: 'this token has expired' });
    this.#adopt(token, null, exp * 1000);
    try {
      await this.request('/api/v1/me');
    } catch (err) {
      this.#clear();
      throw err;
    }
  }

  /** Forgets everything, then POST /api/v1/auth/logout (best effort). */
  async logout() {
    const refresh = this.#refresh;
    this.#clear();
    if (refresh) {
      await fetch('/api/v1/auth/logout', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: refresh }),
      }).catch(() => {});
    }
  }

  /**
   * An access token valid for a while yet: refreshes first when it is (nearly) expired.
   * Answers null when the session is over.
   */
  async freshToken() {
    if (this.#access && Date.now() < this.#refreshAt) return this.#access;
    if (!this.#refresh) {
      if (this.#access && this.#expiresAt > Date.now()) return this.#access;
      this.#expire();
      return null;
    }
    try {
      await this.refreshNow();
      return this.#access;
    } catch {
      return this.#access && this.#expiresAt > Date.now() ? this.#access : null;
    }
  }

  /** POST /api/v1/auth/refresh, once at a time. */
  refreshNow() {
    this.#refreshing ??= (async () => {
      try {
        const answer = await this.#post('/api/v1/auth/refresh', { refresh_token: this.#refresh });
        this.#adoptAnswer(answer);
      } catch (err) {
        // A refused refresh token (reused, revoked, expired) ends the session; a network
        // failure is retried by the timer while the access token still lives.
        if (err instanceof ApiError && err.status === 401) this.#expire();
        else this.#schedule(5_000);
        throw err;
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  /** A REST call with the bearer token; one refresh and retry on 401. */
  async request(path, { method = 'GET', body } = {}) {
    for (let attempt = 0; ; attempt++) {
      const token = await this.freshToken();
      if (!token) throw new ApiError(401, { detail: 'signed out' });
      const response = await fetch(path, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      if (response.status === 401 && attempt === 0 && this.#refresh) {
        await this.refreshNow().catch(() => {});
        continue;
      }
      return readAnswer(response);
    }
  }

  async #post(path, body) {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return readAnswer(response);
  }

  #adoptAnswer(answer) {
    this.#adopt(answer.access_token, answer.refresh_token, Date.now() + answer.expires_in * 1000);
  }

  #adopt(access, refresh, expiresAt) {
    this.#access = access;
    this.#refresh = refresh;
    this.#expiresAt = expiresAt;
    const now = Date.now();
    this.#refreshAt = now + (expiresAt - now) * REFRESH_AT;
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ access, refresh, expiresAt }));
    } catch {
      // Not kept across reloads then.
    }
    if (refresh) {
      this.#schedule(Math.max(this.#refreshAt - now, 0));
    } else {
      this.#schedule(Math.max(expiresAt - Date.now(), 0), () => this.#expire());
    }
    this.dispatchEvent(new Event('token'));
  }

  #schedule(delay, action = () => this.refreshNow().catch(() => {})) {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(action, delay);
  }

  #expire() {
    if (!this.#access && !this.#refresh) return;
    this.#clear();
    this.dispatchEvent(new Event('signedout'));
  }

  #clear() {
    clearTimeout(this.#timer);
    this.#access = null;
    this.#refresh = null;
    this.#expiresAt = 0;
    this.#refreshAt = 0;
    try {
      sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // Nothing was kept.
    }
  }
}

async function readAnswer(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}
