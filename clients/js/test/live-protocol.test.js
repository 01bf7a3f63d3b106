// The live client's side of the protocol, against a scripted socket: the cases no healthy server
// produces on demand (a version gap, a repeated entry, a connection still being made when the
// client stops, a renewed token left unanswered or that cannot be checked now). What a real
// server does produce — authentication, resume, a renewed token taken in band or refused, an
// unknown resume position — is tested against it in live-wire.test.js.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveClient } from '../src/index.js';
import { waitFor } from './helpers.js';

class ScriptedSocket {
  static made = [];
  readyState = 0;
  sent = [];
  closedWith = null;
  #listeners = {};

  constructor(url) {
    this.url = url;
    ScriptedSocket.made.push(this);
  }

  addEventListener(type, listener) { (this.#listeners[type] ??= []).push(listener); }
  send(text) { this.sent.push(JSON.parse(text)); }
  close(code) { this.closedWith = code; this.readyState = 3; }

  open() { this.readyState = 1; this.#fire('open', {}); }
  deliver(message) { this.#fire('message', { data: JSON.stringify(message) }); }
  #fire(type, event) { for (const listener of this.#listeners[type] ?? []) listener(event); }
}

function scripted() {
  ScriptedSocket.made = [];
  const tokens = new EventTarget();
  tokens.fresh = async () => 'token';
  tokens.accessToken = 'token';
  tokens.refreshToken = null;
  const live = new LiveClient({ baseUrl: 'http://127.0.0.1:1', tokens }, { WebSocket: ScriptedSocket });
  const events = [];
  for (const type of ['status', 'snapshot', 'delta', 'feed', 'authenticated', 'error']) {
    live.addEventListener(type, (event) => events.push({ type, detail: event.detail }));
  }
  return { live, tokens, events, socket: (n) => ScriptedSocket.made[n] };
}

const snapshot = (version) => ({ type: 'snapshot', topic: 'user', version, stats: {}, breakdown: {}, activity: {} });
const delta = (version) => ({ type: 'delta', topic: 'user', version, changes: {}, stats: {} });
const entry = (id) => ({ type: 'feed', topic: 'feed:user', entry: { id, action: 'task.create' } });

test('a version gap subscribes again; old versions and repeated entries are dropped', async () => {
  const { live, socket, events } = scripted();
  live.subscribe('user');
  live.subscribe('feed:user');
  live.start();
  await waitFor(() => socket(0));
  socket(0).open();
  socket(0).deliver(snapshot(5));
  socket(0).deliver({ type: 'subscribed', topic: 'feed:user' });
  socket(0).deliver(delta(6));
  socket(0).deliver(delta(6));
  socket(0).deliver(entry('a'));
  socket(0).deliver(entry('a'));
  socket(0).deliver(delta(8));
  live.stop();

  assert.deepEqual(events.filter((e) => e.type === 'delta').map((e) => e.detail.version), [6]);
  assert.equal(events.filter((e) => e.type === 'feed').length, 1);
  assert.deepEqual(socket(0).sent.slice(-2), [{ type: 'subscribe', topic: 'user' }, { type: 'ping', id: 'subscribed' }]);
});

test('a connection still being made when stop() comes is closed, not kept', async () => {
  const { live, socket, tokens } = scripted();
  let release;
  tokens.fresh = () => new Promise((resolve) => { release = () => resolve('token'); });
  live.subscribe('user');
  live.start();
  live.stop();
  tokens.fresh = async () => 'token';
  live.start();
  await waitFor(() => socket(0));
  release();
  await waitFor(() => socket(1));
  live.stop();

  assert.equal(socket(1).closedWith, 1000, 'the socket of the stopped run is closed');
});

const trendsSnapshot = (version, starts) => ({
  type: 'snapshot', topic: 'trends:user', version,
  trends: { version, tz: 'UTC', interval: 'day', buckets: starts.map((start) => bucket(start, 0)) },
});
const bucket = (start, created) => ({ start, end: start, created });

test('trends deltas replace buckets by start, and add the one the clock entered', async () => {
  const { live, socket, events } = scripted();
  live.subscribe('trends:user', { interval: 'day' });
  live.start();
  await waitFor(() => socket(0));
  socket(0).open();
  socket(0).deliver(trendsSnapshot(3, ['2026-09-01', '2026-09-02']));
  socket(0).deliver({ type: 'delta', topic: 'trends:user', version: 4, buckets: [bucket('2026-09-02', 1)] });
  socket(0).deliver({ type: 'delta', topic: 'trends:user', version: 5, buckets: [] });
  socket(0).deliver({ type: 'delta', topic: 'trends:user', version: 6, buckets: [bucket('2026-09-03', 2)] });
  live.stop();

  const deltas = events.filter((e) => e.type === 'delta').map((e) => e.detail);
  assert.deepEqual(deltas.map((d) => d.trends.buckets.map((b) => [b.start, b.created])), [
    [['2026-09-01', 0], ['2026-09-02', 1]],
    [['2026-09-01', 0], ['2026-09-02', 1]],
    [['2026-09-01', 0], ['2026-09-02', 1], ['2026-09-03', 2]],
  ]);
  assert.equal(live.trends('trends:user').version, 6);
  assert.deepEqual(live.trends('trends:user').buckets, deltas[2].trends.buckets);
  assert.equal(events.find((e) => e.type === 'snapshot').detail.trends.buckets.length, 2, 'the snapshot is left as it came');
});

test('subscribed ending a resume makes the topic live; one past what was applied starts it over', async () => {
  const { live, socket, events } = scripted();
  live.subscribe('user', { sinceVersion: 7 });
  live.subscribe('trends:user', { sinceVersion: 7, tz: 'Asia/Kathmandu' });
  live.start();
  await waitFor(() => socket(0));
  socket(0).open();
  socket(0).deliver(delta(8));
  socket(0).deliver({ type: 'subscribed', topic: 'user', version: 8 });
  socket(0).deliver({ type: 'subscribed', topic: 'trends:user', version: 9 });
  const statusBefore = live.status;
  live.stop();

  assert.deepEqual(socket(0).sent.slice(1, 3), [
    { type: 'subscribe', topic: 'user', since_version: 7 },
    { type: 'subscribe', topic: 'trends:user', tz: 'Asia/Kathmandu', since_version: 7 },
  ]);
  assert.equal(live.version('user'), 8);
  // trends:user missed version 8 (a replay the client did not see): a fresh snapshot.
  assert.deepEqual(socket(0).sent.slice(-2), [
    { type: 'subscribe', topic: 'trends:user', tz: 'Asia/Kathmandu' },
    { type: 'ping', id: 'subscribed' },
  ]);
  assert.equal(statusBefore, 'connecting', 'not live until the fresh snapshot');
});

/** Lets the client's pending promises (a connection being made) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A client connected on socket 0 with `user` at version 5, timers mocked from then on. */
async function connected(t) {
  const scriptedClient = scripted();
  const { live, socket } = scriptedClient;
  live.subscribe('user');
  live.start();
  await waitFor(() => socket(0));
  socket(0).open();
  socket(0).deliver(snapshot(5));
  socket(0).deliver({ type: 'pong', id: 'subscribed' });
  t.mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => live.stop());
  return scriptedClient;
}

/** The token renewed: the Tokens say so. */
function renew(tokens, token) {
  tokens.accessToken = token;
  tokens.dispatchEvent(new Event('token'));
}

test('a renewed token unanswered for 10 s gives way to a new session with it, resuming', async (t) => {
  const { live, tokens, socket } = await connected(t);

  renew(tokens, 'renewed');
  t.mock.timers.tick(9_999);
  const stillOne = ScriptedSocket.made.length;
  t.mock.timers.tick(1);
  t.mock.timers.tick(0);
  await settle();
  socket(1).open();

  assert.equal(stillOne, 1);
  assert.deepEqual(socket(0).sent.at(-1), { type: 'auth', access_token: 'renewed' });
  assert.equal(socket(0).closedWith, 1000);
  assert.deepEqual(socket(1).sent.slice(0, 2), [
    { type: 'auth', access_token: 'renewed' },
    { type: 'subscribe', topic: 'user', since_version: 5 },
  ]);
  assert.equal(live.status, 'connecting');
});

test('authenticated keeps the session; a renewal that cannot be checked now is sent again', async (t) => {
  const { tokens, socket, events } = await connected(t);

  renew(tokens, 'second');
  socket(0).deliver({ type: 'authenticated', expires_at: '2026-12-06T10:15:00+00:00' });
  t.mock.timers.tick(60_000);
  renew(tokens, 'third');
  socket(0).deliver({ type: 'error', code: 'unavailable', message: 'the token cannot be checked now' });
  t.mock.timers.tick(1_000); // backoffDelay(1): at most a second
  socket(0).deliver({ type: 'authenticated', expires_at: '2026-12-06T10:30:00+00:00' });
  t.mock.timers.tick(60_000);

  assert.equal(ScriptedSocket.made.length, 1, 'no second session');
  assert.equal(socket(0).closedWith, null);
  assert.deepEqual(socket(0).sent.filter((m) => m.type === 'auth').map((m) => m.access_token),
    ['token', 'second', 'third', 'third']);
  assert.deepEqual(events.filter((e) => e.type === 'authenticated').map((e) => e.detail.expires_at),
    ['2026-12-06T10:15:00+00:00', '2026-12-06T10:30:00+00:00']);
  assert.deepEqual(events.filter((e) => e.type === 'error'), [], 'unavailable is not reported');
});
