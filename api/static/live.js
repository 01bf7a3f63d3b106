// The live feed: one WebSocket to /api/v1/ws following one topic (`user` or `team:<id>`).
// It authenticates with the first message, subscribes (resuming with `since_version`),
// checks that versions grow by one, reconnects with jittered exponential backoff, and moves
// to a new socket when the access token is refreshed (the server closes a session with 4401
// when its token expires).

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15_000;
// The server pings with WebSocket frames, which a page cannot see: ask for a pong instead.
const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
const CLOSE_UNAUTHENTICATED = 4401;
// The id of the ping sent after each subscribe.
const SUBSCRIBED = 'subscribed';

/** The delay before reconnection attempt `n` (0-based): half fixed, half random. */
export function backoffDelay(n) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** n);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Emits `state` (detail: `connected` | `connecting` | `disconnected`), `snapshot` and `delta`
 * (detail: the message, already checked for order), `problem` (detail: an `error` or
 * `unsubscribed` message about the topic) and `signedout` (no token to connect with).
 */
export class LiveFeed extends EventTarget {
  #session;
  #socket = null;
  #successor = null; // the socket taking over after a token refresh
  #topic = 'user';
  #version = null; // the last version applied for #topic
  #state = 'disconnected';
  #attempt = 0;
  #retry = null;
  #pingTimer = null;
  #pongTimer = null;
  #pings = 0;
  #running = false;

  constructor(session) {
    super();
    this.#session = session;
    session.addEventListener('token', () => this.#handOver());
    window.addEventListener('online', () => this.#reconnectSoon());
  }

  get state() { return this.#state; }
  get topic() { return this.#topic; }
  get version() { return this.#version; }

  /** Starts following `topic`. */
  start(topic = this.#topic) {
    this.#running = true;
    this.#topic = topic;
    this.#version = null;
    this.#connect();
  }

  /** Closes the socket for good. */
  stop() {
    this.#running = false;
    clearTimeout(this.#retry);
    this.#drop(this.#successor);
    this.#drop(this.#socket);
    this.#socket = this.#successor = null;
    this.#setState('disconnected');
  }

  /** Follows another topic on the same socket. */
  switchTo(topic) {
    if (topic === this.#topic) return;
    const previous = this.#topic;
    this.#topic = topic;
    this.#version = null;
    // A successor still opening subscribes to the new topic by itself.
    for (const socket of [this.#socket, this.#successor]) {
      if (this.#isOpen(socket)) {
        this.#send(socket, { type: 'unsubscribe', topic: previous });
        this.#subscribe(socket);
      }
    }
  }

  /** Asks for a fresh snapshot of the topic (after a gap or an error). */
  resubscribe() {
    this.#version = null;
    if (this.#isOpen(this.#socket)) this.#subscribe(this.#socket);
  }

  async #connect() {
    clearTimeout(this.#retry);
    if (!this.#running) return;
    this.#setState('connecting');
    const socket = await this.#open();
    if (socket) this.#socket = socket;
  }

  /** A new authenticated, subscribing socket, or null (then a retry is scheduled). */
  async #open() {
    const token = await this.#session.freshToken();
    if (!this.#running) return null;
    if (!token) {
      this.stop();
      this.dispatchEvent(new Event('signedout'));
      return null;
    }
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/api/v1/ws`);
    socket.addEventListener('open', () => {
      // The token goes in the first message, not the URL, so it stays out of access logs.
      this.#send(socket, { type: 'auth', access_token: token });
      this.#subscribe(socket);
    });
    socket.addEventListener('message', (event) => this.#receive(socket, event.data));
    socket.addEventListener('close', (event) => this.#closed(socket, event.code));
    return socket;
  }

  #subscribe(socket) {
    const message = { type: 'subscribe', topic: this.#topic };
    if (this.#version !== null) message.since_version = this.#version;
    this.#send(socket, message);
    // A resume that missed nothing is answered by nothing: the pong to this ping, which the
    // server answers after the subscription is in place, says the topic is live.
    this.#send(socket, { type: 'ping', id: SUBSCRIBED });
  }

  #receive(socket, data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (socket === this.#successor) {
      // The new socket speaks: it becomes the one, the old one goes.
      this.#drop(this.#socket);
      this.#socket = socket;
      this.#successor = null;
    }
    if (socket !== this.#socket) return;
    if (message.type === 'pong') {
      clearTimeout(this.#pongTimer);
      // The first connection has a snapshot on its way; a resumed one is up to date now.
      if (message.id === SUBSCRIBED && this.#version !== null) this.#live();
      return;
    }
    if (message.topic !== undefined && message.topic !== this.#topic) return; // an old topic
    switch (message.type) {
      case 'snapshot':
        this.#version = message.version;
        this.#live();
        this.dispatchEvent(new CustomEvent('snapshot', { detail: message }));
        break;
      case 'delta':
        if (this.#version === null) return; // a fresh snapshot is on its way
        if (message.version <= this.#version) return; // already applied
        if (message.version !== this.#version + 1) {
          this.resubscribe();
          return;
        }
        this.#version = message.version;
        this.#live();
        this.dispatchEvent(new CustomEvent('delta', { detail: message }));
        break;
      case 'error':
      case 'unsubscribed':
        this.dispatchEvent(new CustomEvent('problem', { detail: message }));
        break;
      default:
        break;
    }
  }

  #closed(socket, code) {
    if (socket === this.#successor) {
      this.#successor = null; // the old socket carries on until it is closed too
      return;
    }
    if (socket !== this.#socket) return;
    this.#socket = null;
    clearInterval(this.#pingTimer);
    clearTimeout(this.#pongTimer);
    if (!this.#running) return;
    if (this.#successor) {
      // The old token expired while its successor was still opening: carry on with it.
      this.#socket = this.#successor;
      this.#successor = null;
      this.#pingTimer = setInterval(() => this.#ping(), PING_EVERY_MS);
      return;
    }
    this.#setState('disconnected');
    // An expired token is not a failure: get a fresh one and come straight back.
    const delay = code === CLOSE_UNAUTHENTICATED && this.#attempt === 0 ? 0 : backoffDelay(this.#attempt);
    this.#attempt += 1;
    this.#retry = setTimeout(() => this.#connect(), delay);
  }

  /** The topic is flowing: connected, backoff reset, liveness pings on. */
  #live() {
    if (this.#state === 'connected') return;
    this.#attempt = 0;
    this.#setState('connected');
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => this.#ping(), PING_EVERY_MS);
  }

  #ping() {
    const socket = this.#socket;
    if (!this.#isOpen(socket)) return;
    this.#pings += 1;
    this.#send(socket, { type: 'ping', id: `p${this.#pings}` });
    clearTimeout(this.#pongTimer);
    this.#pongTimer = setTimeout(() => socket.close(4000, 'no pong'), PONG_WITHIN_MS);
  }

  /** After a token refresh: open a socket with the new token, then let the old one go. */
  async #handOver() {
    if (!this.#running || this.#successor || !this.#isOpen(this.#socket)) return;
    const successor = await this.#open();
    if (!successor) return;
    if (!this.#running || this.#socket === null) {
      // The old socket is gone meanwhile: this one simply takes over.
      this.#socket ??= successor;
      if (this.#socket !== successor) this.#drop(successor);
      return;
    }
    this.#successor = successor;
  }

  #reconnectSoon() {
    if (this.#running && this.#socket === null) {
      this.#attempt = 0;
      this.#connect();
    }
  }

  #setState(state) {
    if (state === this.#state) return;
    this.#state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }

  #send(socket, message) {
    if (this.#isOpen(socket)) socket.send(JSON.stringify(message));
  }

  #isOpen(socket) {
    return socket !== null && socket.readyState === WebSocket.OPEN;
  }

  #drop(socket) {
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, 'replaced');
  }
}
