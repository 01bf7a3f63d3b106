// The live client's side of the protocol, against a scripted socket: what it sends, the
// version check, dropped repeats, resume positions and the hand-over. No server: these are the
// cases a healthy server never produces on demand (a version gap, a repeated entry).

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
  drop(code = 1006) { this.readyState = 3; this.#fire('close', { code }); }
  #fire(type, event) { for (const listener of this.#listeners[type] ?? []) listener(event); }
}

function scripted() {
  ScriptedSocket.made = [];
  const tokens = new EventTarget();
  tokens.fresh = async () => 'token';
  tokens.refreshToken = null;
  const live = new LiveClient({ baseUrl: 'http://127.0.0.1:1', tokens }, { WebSocket: ScriptedSocket });
  const events = [];
  for (const type of ['status', 'snapshot', 'delta', 'feed']) {
    live.addEventListener(type, (event) => events.push({ type, detail: event.detail }));
  }
  return { live, tokens, events, socket: (n) => ScriptedSocket.made[n] };
}

const snapshot = (version) => ({ type: 'snapshot', topic: 'user', version, stats: {}, breakdown: {}, activity: {} });
const delta = (version) => ({ type: 'delta', topic: 'user', version, changes: {}, stats: {} });
const entry = (id) => ({ type: 'feed', topic: 'feed:user', entry: { id, action: 'task.create' } });

test('it authenticates first, then subscribes and pings', async () => {
  const { live, socket } = scripted();
  live.subscribe('user');
  live.subscribe('feed:user');
  live.start();
  await waitFor(() => socket(0));
  socket(0).open();
  live.stop();

  assert.equal(socket(0).url, 'ws://127.0.0.1:1/api/v1/ws');
  assert.deepEqual(socket(0).sent, [
    { type: 'auth', access_token: 'token' },
    { type: 'subscribe', topic: 'user' },
    { type: 'subscribe', topic: 'feed:user' },
    { type: 'ping', id: 'subscribed' },
  ]);
});

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

test('after a dropped connection it is stale, reconnects, and resumes from where it was', async () => {
  const { live, socket, events } = scripted();
  live.subscribe('user');
  live.subscribe('feed:user');
  live.start();
  await waitFor(() => socket(0));
  socket(0).open();
  socket(0).deliver(snapshot(5));
  socket(0).deliver({ type: 'subscribed', topic: 'feed:user' });
  socket(0).deliver(entry('a'));
  assert.equal(live.status, 'connected');

  socket(0).drop();
  const stale = live.staleSince;
  await waitFor(() => socket(1), 2_000, 'a reconnection');
  socket(1).open();
  socket(1).deliver({ type: 'subscribed', topic: 'feed:user' });
  socket(1).deliver({ type: 'pong', id: 'subscribed' });
  const back = live.status;
  live.stop();

  assert.ok(stale instanceof Date);
  assert.equal(back, 'connected');
  assert.deepEqual(events.filter((e) => e.type === 'status').map((e) => e.detail.status),
    ['connecting', 'connected', 'disconnected', 'connecting', 'connected', 'disconnected']);
  assert.deepEqual(socket(1).sent.slice(1, 3), [
    { type: 'subscribe', topic: 'user', since_version: 5 },
    { type: 'subscribe', topic: 'feed:user', since: 'a' },
  ]);
});

test('a renewed token opens a second socket, which replaces the first once it speaks', async () => {
  const { live, socket, tokens } = scripted();
  live.subscribe('user');
  live.start();
  await waitFor(() => socket(0));
  socket(0).open();
  socket(0).deliver(snapshot(5));

  tokens.dispatchEvent(new Event('token'));
  await waitFor(() => socket(1));
  socket(1).open();
  const beforeItSpoke = socket(0).closedWith;
  socket(1).deliver({ type: 'pong', id: 'subscribed' });
  const status = live.status;
  live.stop();

  assert.equal(beforeItSpoke, null);
  assert.equal(socket(0).closedWith, 1000);
  assert.equal(status, 'connected');
  assert.deepEqual(socket(1).sent[1], { type: 'subscribe', topic: 'user', since_version: 5 });
});

test('a feed resumed from an unknown entry is followed afresh, without an error event', async () => {
  const { live, socket } = scripted();
  const errors = [];
  live.addEventListener('error', (event) => errors.push(event.detail));
  live.subscribe('feed:user', { since: 'gone' });
  live.start();
  await waitFor(() => socket(0));
  socket(0).open();
  socket(0).deliver({ type: 'error', code: 'invalid_since', message: 'unknown entry', topic: 'feed:user' });
  live.stop();

  assert.deepEqual(errors, []);
  assert.deepEqual(live.topics, ['feed:user']);
  assert.deepEqual(socket(0).sent.slice(1, 2), [{ type: 'subscribe', topic: 'feed:user', since: 'gone' }]);
  assert.deepEqual(socket(0).sent.slice(-2), [{ type: 'subscribe', topic: 'feed:user' }, { type: 'ping', id: 'subscribed' }]);
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
