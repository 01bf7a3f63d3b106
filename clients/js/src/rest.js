// Typed calls to the taskpulse REST API (/api/v1): the tokens are handled here (bearer header,
// renewal before expiry, one retry after a 401), errors are ProblemErrors. The types are in
// ../index.d.ts, over the ones generated from the server's OpenAPI document.

import { ProblemError, readAnswer } from './problem.js';
import { Tokens } from './tokens.js';

/** `?a=1&b=2` of the defined values, or ''. */
function queryString(query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

const id = (value) => encodeURIComponent(value);

/** The media types of the task files (`GET /tasks/export`, `POST /tasks/import`). */
const FILE_TYPES = { csv: 'text/csv', ndjson: 'application/x-ndjson' };

/**
 * The format of a file to import: `ndjson` for a name ending `.ndjson` or `.jsonl` or an
 * NDJSON media type, `csv` otherwise.
 */
export function importFormatOf(file) {
  const name = typeof file?.name === 'string' ? file.name.toLowerCase() : '';
  const type = typeof file?.type === 'string' ? file.type.toLowerCase() : '';
  if (/\.(ndjson|jsonl)$/.test(name) || /ndjson|jsonl|json-seq/.test(type)) return 'ndjson';
  return 'csv';
}

/** A body sent as it is (a file), not as JSON. */
const isRaw = (body) => typeof body === 'string' || body instanceof ArrayBuffer
  || ArrayBuffer.isView(body) || (typeof Blob !== 'undefined' && body instanceof Blob);

/** The answer itself when it succeeded (to read as a file); a ProblemError otherwise. */
async function okResponse(response) {
  if (response.ok) return response;
  return readAnswer(response); // throws the problem
}

/** The text of a successful answer (CSV); a ProblemError otherwise. */
async function readText(response) {
  return (await okResponse(response)).text();
}

export class Client {
  #baseUrl;
  #fetch;

  /**
   * @param {{baseUrl?: string, fetch?: typeof fetch, storage?: Storage | null}} [options]
   *   `baseUrl` is the server (`https://tasks.example.com`; '' for the page's own origin),
   *   `storage` keeps the session across reloads (a page passes `sessionStorage`).
   */
  constructor({ baseUrl = '', fetch: fetchImpl = globalThis.fetch, storage = null } = {}) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
    // Called as a plain function: a browser's fetch refuses any other `this` than the window.
    this.#fetch = (...args) => fetchImpl(...args);
    this.tokens = new Tokens((refresh_token) => this.#post('/api/v1/auth/refresh', { refresh_token }), storage);
  }

  get baseUrl() { return this.#baseUrl; }

  // Authentication

  async register(body) { return this.#signIn(await this.#post('/api/v1/auth/register', body)); }
  async login(body) { return this.#signIn(await this.#post('/api/v1/auth/login', body)); }

  /**
   * Signs in with a bare access token or a personal access token (`tp_pat_…`), checked with
   * GET /me: it is not renewed.
   */
  async useAccessToken(token) {
    this.tokens.adoptAccessToken(token);
    try {
      return await this.me();
    } catch (err) {
      this.tokens.clear();
      throw err;
    }
  }

  /** Forgets the tokens, then ends the session on the server (best effort). */
  async logout() {
    const refresh_token = this.tokens.clear();
    if (refresh_token) await this.#post('/api/v1/auth/logout', { refresh_token }).catch(() => {});
  }

  /** Stops the renewal timer (a Node process that is done). */
  close() { this.tokens.close(); }

  me() { return this.request('GET', '/api/v1/me'); }
  updateMe(settings) { return this.request('PATCH', '/api/v1/me', { body: settings }); }
  deleteMe() { return this.request('DELETE', '/api/v1/me'); }

  // Tasks

  createTask(body) { return this.request('POST', '/api/v1/tasks', { body }); }
  listTasks(query) { return this.request('GET', '/api/v1/tasks', { query }); }
  getTask(taskId) { return this.request('GET', `/api/v1/tasks/${id(taskId)}`); }
  updateTask(taskId, body, { ifMatch } = {}) {
    const headers = ifMatch === undefined ? {} : { 'If-Match': `"${ifMatch}"` };
    return this.request('PATCH', `/api/v1/tasks/${id(taskId)}`, { body, headers });
  }
  deleteTask(taskId) { return this.request('DELETE', `/api/v1/tasks/${id(taskId)}`); }
  shareTask(taskId, body) { return this.request('POST', `/api/v1/tasks/${id(taskId)}/shares`, { body }); }
  listShares(taskId) { return this.request('GET', `/api/v1/tasks/${id(taskId)}/shares`); }
  unshareTask(taskId, userId) {
    return this.request('DELETE', `/api/v1/tasks/${id(taskId)}/shares/${id(userId)}`);
  }

  /**
   * GET /tasks/export (`scope`, `team_id`, `status`, `priority`, `format`: `csv` or `ndjson`):
   * the successful Response, its body not read yet: `.blob()` to save it, `.text()`, or
   * `.body` to stream it.
   */
  exportTasks(query = {}) {
    return this.#authorized('GET', '/api/v1/tasks/export', { query }, okResponse);
  }

  /**
   * POST /tasks/import: `file` (a string, Blob or File, or bytes) as CSV or NDJSON, into the
   * team `teamId` or the caller's own tasks; answers `{imported}`. `format` is taken from the
   * file's name or type when not given (`importFormatOf`). A refused file is a ProblemError
   * (422) whose `errors` are `{line, field, message}`.
   */
  async importTasks(file, { format = importFormatOf(file), teamId } = {}) {
    const type = FILE_TYPES[format];
    if (!type) throw new TypeError(`format must be csv or ndjson, not ${format}`);
    return this.request('POST', '/api/v1/tasks/import', {
      query: { team_id: teamId }, body: file, headers: { 'Content-Type': type },
    });
  }

  // Teams

  createTeam(body) { return this.request('POST', '/api/v1/teams', { body }); }
  listTeams(query) { return this.request('GET', '/api/v1/teams', { query }); }
  getTeam(teamId) { return this.request('GET', `/api/v1/teams/${id(teamId)}`); }
  deleteTeam(teamId) { return this.request('DELETE', `/api/v1/teams/${id(teamId)}`); }
  addMember(teamId, body) { return this.request('POST', `/api/v1/teams/${id(teamId)}/members`, { body }); }
  updateMember(teamId, userId, body) {
    return this.request('PATCH', `/api/v1/teams/${id(teamId)}/members/${id(userId)}`, { body });
  }
  removeMember(teamId, userId) {
    return this.request('DELETE', `/api/v1/teams/${id(teamId)}/members/${id(userId)}`);
  }

  // Personal access tokens (POST answers the token itself, once)

  createToken(body) { return this.request('POST', '/api/v1/tokens', { body }); }
  listTokens(query) { return this.request('GET', '/api/v1/tokens', { query }); }
  revokeToken(tokenId) { return this.request('DELETE', `/api/v1/tokens/${id(tokenId)}`); }

  // Webhooks (POST answers the signing secret, once)

  createWebhook(body) { return this.request('POST', '/api/v1/webhooks', { body }); }
  listWebhooks(query) { return this.request('GET', '/api/v1/webhooks', { query }); }
  deleteWebhook(webhookId) { return this.request('DELETE', `/api/v1/webhooks/${id(webhookId)}`); }
  listWebhookDeliveries(webhookId, query) {
    return this.request('GET', `/api/v1/webhooks/${id(webhookId)}/deliveries`, { query });
  }

  // In-app notifications (the live ones: the `notifications` topic)

  listNotifications(query) { return this.request('GET', '/api/v1/notifications', { query }); }
  markNotificationRead(notificationId) {
    return this.request('POST', `/api/v1/notifications/${id(notificationId)}/read`);
  }
  markAllNotificationsRead() { return this.request('POST', '/api/v1/notifications/read'); }

  // Dashboard, audit log, health

  statistics(query) { return this.request('GET', '/api/v1/dashboard/statistics', { query }); }
  breakdown(query) { return this.request('GET', '/api/v1/dashboard/breakdown', { query }); }
  activity(query) { return this.request('GET', '/api/v1/dashboard/activity', { query }); }
  /**
   * GET /dashboard/trends (`team_id`, `tz`, `interval`, `from`, `to`): the trends object, or
   * with `format: 'csv'` the CSV text.
   */
  trends(query = {}) {
    const read = query.format === 'csv' ? readText : readAnswer;
    return this.#authorized('GET', '/api/v1/dashboard/trends', { query }, read);
  }
  shared() { return this.request('GET', '/api/v1/dashboard/shared'); }
  auditLogs(query) { return this.request('GET', '/api/v1/audit-logs', { query }); }
  health() { return this.#call('GET', '/api/v1/health', {}); }

  /**
   * Every item of a paginated list, page after page:
   * `for await (const task of client.all(client.listTasks, { status: 'pending' }))`.
   */
  async *all(list, query = {}) {
    let cursor = null;
    do {
      const page = await list.call(this, { ...query, cursor });
      yield* page.items;
      cursor = page.next_cursor;
    } while (cursor);
  }

  /**
   * A call with the bearer token: renewed first when due, and once more after a 401. A string,
   * Blob or bytes `body` is sent as it is (say its `Content-Type` in `headers`), anything else
   * as JSON.
   */
  request(method, path, { query, body, headers = {} } = {}) {
    return this.#authorized(method, path, { query, body, headers }, readAnswer);
  }

  /** `request`, the answer read by `read` (a ProblemError for a failure). */
  async #authorized(method, path, { query, body, headers = {} }, read) {
    for (let attempt = 0; ; attempt++) {
      const token = await this.tokens.fresh();
      if (!token) throw new ProblemError(401, { code: 'unauthenticated', detail: 'signed out' });
      try {
        return await this.#call(method, path + queryString(query), {
          body, headers: { ...headers, Authorization: `Bearer ${token}` },
        }, read);
      } catch (err) {
        const renewable = err instanceof ProblemError && err.status === 401 && this.tokens.refreshToken;
        if (!renewable || attempt > 0) throw err;
        await this.tokens.renewNow().catch(() => {});
      }
    }
  }

  #signIn(pair) {
    this.tokens.adopt(pair);
    return pair;
  }

  #post(path, body) { return this.#call('POST', path, { body }); }

  async #call(method, path, { body, headers = {} }, read = readAnswer) {
    let response;
    const json = body !== undefined && !isRaw(body);
    try {
      response = await this.#fetch(`${this.#baseUrl}${path}`, {
        method,
        headers: json ? { ...headers, 'Content-Type': 'application/json' } : headers,
        body: json ? JSON.stringify(body) : body,
      });
    } catch (err) {
      throw new ProblemError(0, { code: 'unreachable', detail: `cannot reach the server: ${err.message}` });
    }
    return read(response);
  }
}
