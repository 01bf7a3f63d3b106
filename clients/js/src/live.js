// The live client: one WebSocket to /api/v1/ws following any number of topics (`user`,
// `team:<id>`, `trends:user`, `trends:team:<id>`, `feed:user`, `feed:team:<id>`,
// `notifications`). It authenticates with the first message, subscribes (with `tz`,
// `interval`, `from`; resuming with `since_version` and `since`), checks that versions grow by
// one, keeps each trends topic's buckets, reconnects with jittered exponential backoff, and hands every renewed access
// token to the open session (`auth` again, answered `authenticated`), which keeps its
// subscriptions; the server closes a session with 4401 when its token expires unrenewed.

import { TopicState, isTrends } from './topics.js';

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15_000;
// The server pings with WebSocket frames, which a page cannot see: ask for a pong instead.
const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
// A renewing `auth` unanswered this long: reconnect with the new token and resume instead.
const AUTHENTICATED_WITHIN_MS = 10_000;
const CLOSE_UNAUTHENTICATED = 4401;
const OPEN = 1; // WebSocket.OPEN, the same in browsers and in the ws package
const SUBSCRIBED_PING = 'subscribed';

/** The delay before reconnection attempt `n` (0-based): half fixed, half random. */
export function backoffDelay(n) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** n);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** `ws(s)://<host>/api/v1/ws` of the client's server, or of the page's own origin. */
function socketUrl(baseUrl) {
  const url = new URL('/api/v1/ws', baseUrl || globalThis.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

/**
 * Emits `status` (detail: `{status, staleSince}`: `connecting` | `connected` | `disconnected`,
 * and since when the data is not live, a Date or null), `snapshot`, `delta`, `subscribed` and
 * `feed` and `notification` (detail: the server's message, deltas already checked for order
 * and feed entries and notifications for repeats; a trends topic's `delta` also carries `trends`, the whole trends with the delta's
 * buckets put in place, as `trends(topic)` answers; `subscribed` ends a feed's start and every
 * resume, with the `version` reached: the topic is live again), `revoked` (the `unsubscribed` message: the team membership ended, the topic is
 * dropped), `error` (an `error` message about a topic, which is dropped unless it was only
 * `unavailable`, then it is retried; an `invalid_since` is not reported: the feed is followed
 * from now on; an error without a topic is about a renewed token: `user_mismatch` or
 * `invalid_token`, after which the client reconnects with a fresh token), `authenticated`
 * (the session took a renewed token: `expires_at`) and `signedout` (no token to connect with).
 */
export class LiveClient extends EventTarget {
  #client;
  #url;
  #WebSocket;
  #topics = new Map(); // topic -> TopicState
  #socket = null;
  #renewals = 0; // renewing `auth` messages the open session has not answered yet
  #renewalTimer = null;
  #status = 'disconnected';
  #staleSince = null;
  #attempt = 0;
  #renewFirst = false; // the server refused the token: renew it before reconnecting
  #running = false;
  #runs = 0; // counts start() and stop(), so a connection begun before a stop() is dropped
  #retry = null;
  #pingTimer = null;
  #pongTimer = null;
  #pings = 0;

  /**
   * @param {import('./rest.js').Client} client the REST client whose tokens authenticate
   * @param {{url?: string, WebSocket?: typeof WebSocket}} [options] `WebSocket`: the
   *   constructor to use where there is no global one (Node 20: the `ws` package's)
   */
  constructor(client, { url, WebSocket: Socket = globalThis.WebSocket } = {}) {
    super();
    if (typeof Socket !== 'function') {
      throw new TypeError('no WebSocket here: pass one, e.g. { WebSocket } from the ws package');
    }
    this.#client = client;
    this.#url = url ?? socketUrl(client.baseUrl);
    this.#WebSocket = Socket;
    client.tokens.addEventListener('token', () => this.#renew());
    client.tokens.addEventListener('signedout', () => this.#signedOut());
    globalThis.addEventListener?.('online', () => this.#reconnectNow());
  }

  get status() { return this.#status; }
  /** Since when the data is not live (null while connected or before the first connection). */
  get staleSince() { return this.#staleSince; }
  get topics() { return [...this.#topics.keys()]; }
  /** The last version applied for a dashboard topic (null before its snapshot). */
  version(topic) { return this.#topics.get(topic)?.version ?? null; }
  /** The id of the last feed entry seen on a feed topic. */
  lastEntry(topic) { return this.#topics.get(topic)?.lastEntry ?? null; }
  /**
   * A trends topic's trends as GET /dashboard/trends shapes them, with every delta applied
   * (null before its snapshot).
   */
  trends(topic) { return this.#topics.get(topic)?.trends ?? null; }

  /** Connects (and keeps reconnecting) until `stop()`. */
  start() {
    if (this.#running) return;
    this.#running = true;
    this.#runs += 1;
    this.#attempt = 0;
    this.#connect();
  }

  /** Closes the socket for good; the topics and their positions are kept for `start()`. */
  stop() {
    this.#running = false;
    this.#runs += 1;
    clearTimeout(this.#retry);
    this.#stopPings();
    this.#stopRenewal();
    this.#drop(this.#socket);
    this.#socket = null;
    this.#staleSince = null;
    this.#setStatus('disconnected');
  }

  /**
   * Follows `topic`: a dashboard or trends topic answers a `snapshot` (or the deltas after
   * `sinceVersion`, then `subscribed`), a feed topic `subscribed` (then the entries after
   * `since`). `tz` (an IANA zone) is for dashboard and trends topics, `interval` (`day`,
   * `week`, `month`) and `from` (`YYYY-MM-DD`) for trends topics; they are sent again with
   * every resume. A TypeError for an option the topic does not take.
   */
  subscribe(topic, { sinceVersion = null, since = null, tz = null, interval = null, from = null } = {}) {
    this.#topics.set(topic, new TopicState(topic, { sinceVersion, since, tz, interval, from }));
    this.#subscribe(this.#socket, [topic]);
  }

  /** Stops following `topic`. */
  unsubscribe(topic) {
    if (!this.#topics.delete(topic)) return;
    this.#send(this.#socket, { type: 'unsubscribe', topic });
  }

  /** Asks for a fresh snapshot of a dashboard topic (after a gap or an error). */
  resubscribe(topic) {
    const state = this.#topics.get(topic);
    if (!state) return;
    state.version = null;
    this.#subscribe(this.#socket, [topic]);
  }

  async #connect() {
    clearTimeout(this.#retry);
    if (!this.#running) return;
    this.#setStatus('connecting');
    const run = this.#runs;
    const socket = await this.#open();
    if (run === this.#runs) this.#socket = socket;
    else this.#drop(socket);
  }

  /** A new socket that authenticates and subscribes when open, or null (signed out). */
  async #open() {
    if (this.#renewFirst && this.#client.tokens.refreshToken) {
      this.#renewFirst = false;
      await this.#client.tokens.renewNow().catch(() => {});
    }
    const token = await this.#client.tokens.fresh();
    if (!this.#running) return null;
    if (!token) {
      this.#signedOut();
      return null;
    }
    const socket = new this.#WebSocket(this.#url);
    socket.addEventListener('open', () => {
      // The token goes in the first message, not the URL, so it stays out of access logs; one
      // renewed while the socket was opening goes instead.
      this.#send(socket, { type: 'auth', access_token: this.#client.tokens.accessToken ?? token });
      this.#subscribe(socket, this.topics);
    });
    socket.addEventListener('message', (event) => this.#receive(socket, event.data));
    socket.addEventListener('close', (event) => this.#closed(socket, event.code));
    // A failed connection also closes; the close handler retries.
    socket.addEventListener('error', () => {});
    return socket;
  }

  #subscribe(socket, topics) {
    if (!this.#isOpen(socket) || topics.length === 0) return;
    for (const topic of topics) {
      const state = this.#topics.get(topic);
      if (socket === this.#socket) state.waiting = true;
      this.#send(socket, state.subscribeMessage());
    }
    // A resume that missed nothing is answered by nothing: the pong to this ping, which the
    // server answers after the subscriptions are in place, says they are live.
    this.#send(socket, { type: 'ping', id: SUBSCRIBED_PING });
  }

  #receive(socket, data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (socket !== this.#socket) return;
    if (message.type === 'authenticated') {
      this.#renewed();
      this.#emit('authenticated', message);
      return;
    }
    if (message.type === 'error' && message.topic === undefined) {
      this.#renewalRefused(socket, message);
      return;
    }
    if (message.type === 'pong') {
      clearTimeout(this.#pongTimer);
      if (message.id === SUBSCRIBED_PING) {
        // A resumed topic is up to date now; a new one has its snapshot on the way.
        for (const state of this.#topics.values()) if (state.version !== null) state.waiting = false;
        this.#checkLive();
      }
      return;
    }
    const state = this.#topics.get(message.topic);
    if (!state) return; // a topic given up meanwhile
    switch (message.type) {
      case 'snapshot':
        state.takeSnapshot(message);
        this.#ready(state);
        this.#emit('snapshot', message);
        break;
      case 'delta':
        switch (state.takeDelta(message)) {
          case 'apply':
            this.#ready(state);
            this.#emit('delta', isTrends(message.topic) ? { ...message, trends: state.trends } : message);
            break;
          case 'gap':
            this.resubscribe(message.topic); // start over from a snapshot
            break;
          default:
            break;
        }
        break;
      case 'subscribed':
        // A feed has started, or a resume has replayed what was missed: live again.
        if (state.takeSubscribed(message) === 'gap') {
          this.resubscribe(message.topic);
          return;
        }
        this.#ready(state);
        this.#emit('subscribed', message);
        break;
      case 'feed':
        if (state.takeEntry(message.entry)) this.#emit('feed', message);
        break;
      case 'notification':
        if (state.takeEntry(message.notification)) this.#emit('notification', message);
        break;
      case 'unsubscribed':
        if (message.reason === 'requested') return;
        this.#topics.delete(message.topic);
        this.#checkLive();
        this.#emit('revoked', message);
        break;
      case 'error':
        if (message.code === 'invalid_since') {
          // The entry it resumed from is unknown here: follow the feed from now on.
          state.lastEntry = null;
          this.#subscribe(this.#socket, [message.topic]);
          return;
        }
        if (message.code === 'unavailable') {
          setTimeout(() => this.#subscribe(this.#socket, this.#topics.has(message.topic) ? [message.topic] : []),
            backoffDelay(1));
        } else {
          this.#topics.delete(message.topic);
          this.#checkLive();
        }
        this.#emit('error', message);
        break;
      default:
        break;
    }
  }

  #closed(socket, code) {
    if (socket !== this.#socket) return;
    this.#reconnect(code === CLOSE_UNAUTHENTICATED ? 'renewed' : 'backoff');
  }

  /**
   * The session is gone (or given up): connect again and resume. `renewed` (the token was
   * refused: renew it first) and `now` (with the token held) come straight back, once, then
   * back off; `backoff` waits the jittered delay from the start.
   */
  #reconnect(how) {
    this.#drop(this.#socket, 'reconnecting');
    this.#socket = null;
    this.#stopPings();
    this.#stopRenewal();
    if (!this.#running) return;
    this.#setStatus('disconnected');
    this.#renewFirst = how === 'renewed';
    const delay = how !== 'backoff' && this.#attempt === 0 ? 0 : backoffDelay(this.#attempt);
    this.#attempt += 1;
    this.#retry = setTimeout(() => this.#connect(), delay);
  }

  #ready(state) {
    if (!state.waiting) return;
    state.waiting = false;
    this.#checkLive();
  }

  /** Every topic is flowing: connected, backoff reset, liveness pings on. */
  #checkLive() {
    if (this.#status === 'connected' || !this.#isOpen(this.#socket)) return;
    for (const state of this.#topics.values()) if (state.waiting) return;
    this.#attempt = 0;
    this.#startPings();
    this.#setStatus('connected');
  }

  #startPings() {
    this.#stopPings();
    this.#pingTimer = setInterval(() => this.#ping(), PING_EVERY_MS);
  }

  #stopPings() {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#pongTimer);
  }

  #ping() {
    const socket = this.#socket;
    if (!this.#isOpen(socket)) return;
    this.#pings += 1;
    this.#send(socket, { type: 'ping', id: `p${this.#pings}` });
    clearTimeout(this.#pongTimer);
    this.#pongTimer = setTimeout(() => socket.close(4000, 'no pong'), PONG_WITHIN_MS);
  }

  /**
   * The access token was renewed: the open session takes it in band (`auth` again) and keeps
   * every subscription. A socket still opening sends the new token first; with none, the next
   * connection takes it.
   */
  #renew() {
    const token = this.#client.tokens.accessToken;
    if (!this.#running || !token || !this.#isOpen(this.#socket)) return;
    this.#send(this.#socket, { type: 'auth', access_token: token });
    this.#renewals += 1;
    clearTimeout(this.#renewalTimer);
    // Unanswered (a server that does not renew in band, or a dead connection): a new session
    // with the new token, resuming every topic.
    this.#renewalTimer = setTimeout(() => this.#reconnect('now'), AUTHENTICATED_WITHIN_MS);
  }

  /** `authenticated`: the session runs on the renewed token. */
  #renewed() {
    this.#renewals = Math.max(this.#renewals - 1, 0);
    if (this.#renewals === 0) clearTimeout(this.#renewalTimer);
  }

  /**
   * An `error` without a topic: a renewing `auth` refused, the session keeping its old token
   * (which expires soon). `unavailable` (the server could not check it now) is tried again;
   * another user's token (`user_mismatch`: the client signed in as someone else) or a refused
   * one (`invalid_token`) is reported and the client connects again with a fresh token.
   */
  #renewalRefused(socket, message) {
    if (message.code === 'unavailable') {
      if (this.#renewals === 0) return;
      this.#renewals = 0;
      clearTimeout(this.#renewalTimer);
      this.#renewalTimer = setTimeout(() => {
        if (socket === this.#socket) this.#renew();
      }, backoffDelay(1));
      return;
    }
    if (message.code !== 'user_mismatch' && message.code !== 'invalid_token') return;
    this.#emit('error', message);
    if (message.code === 'user_mismatch') {
      // What the topics held was another user's: every topic starts over from a snapshot.
      for (const state of this.#topics.values()) state.forget();
      this.#reconnect('now');
    } else {
      this.#reconnect('renewed');
    }
  }

  #stopRenewal() {
    this.#renewals = 0;
    clearTimeout(this.#renewalTimer);
  }

  #reconnectNow() {
    if (this.#running && this.#socket === null) {
      this.#attempt = 0;
      this.#connect();
    }
  }

  #signedOut() {
    if (!this.#running) return;
    this.stop();
    this.#emit('signedout', null);
  }

  #setStatus(status) {
    if (status === this.#status) return;
    if (status === 'connected') this.#staleSince = null;
    else if (this.#status === 'connected' && this.#running) this.#staleSince = new Date();
    this.#status = status;
    this.#emit('status', { status, staleSince: this.#staleSince });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #send(socket, message) {
    if (this.#isOpen(socket)) socket.send(JSON.stringify(message));
  }

  #isOpen(socket) {
    return socket !== null && socket.readyState === OPEN;
  }

  #drop(socket, reason = 'stopped') {
    if (socket && socket.readyState <= OPEN) socket.close(1000, reason);
  }
}
