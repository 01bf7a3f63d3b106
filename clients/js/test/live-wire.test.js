// The live client's side of the protocol on the wire, against the real server: what it sends
// (authentication first, resume positions, a renewed token on the open session) and what it
// does with the server's answers, a refused renewal included. The cases no healthy server
// produces on demand are scripted in live-protocol.test.js.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import WebSocket from 'ws';
import { tokenExpiry } from '../src/index.js';
import {
  PASSWORD, baseUrl, liveClient, newUser, recorder, recordingSockets, waitFor, withoutRenewals,
} from './helpers.js';

const EVENTS = ['status', 'snapshot', 'delta', 'subscribed', 'feed', 'error', 'authenticated'];

const statuses = (events) => events.seen.filter((e) => e.type === 'status').map((e) => e.detail.status);

test('it authenticates first, then subscribes and pings, and the server answers each', async (t) => {
  const { client } = await newUser(t);
  const token = client.tokens.accessToken;
  const sockets = recordingSockets();
  const live = liveClient(t, client, sockets.Socket);
  const events = recorder(live, EVENTS);

  live.subscribe('user');
  live.subscribe('feed:user');
  live.start();
  await events.next('status', (d) => d.status === 'connected');
  const snapshot = await events.next('snapshot');
  const subscribed = await events.next('subscribed');
  // Connected comes with the topics' first answers, which may come before the pong.
  await waitFor(() => sockets.made[0].received.some((m) => m.type === 'pong'), 5_000, 'the pong');
  live.stop();

  const [socket] = sockets.made;
  assert.equal(socket.url, `${baseUrl.replace(/^http/, 'ws').replace(/\/+$/, '')}/api/v1/ws`);
  assert.deepEqual(withoutRenewals(socket.sent), [
    { type: 'auth', access_token: token },
    { type: 'subscribe', topic: 'user' },
    { type: 'subscribe', topic: 'feed:user' },
    { type: 'ping', id: 'subscribed' },
  ]);
  assert.equal(snapshot.topic, 'user');
  assert.equal(subscribed.topic, 'feed:user');
  assert.ok(socket.received.some((m) => m.type === 'pong' && m.id === 'subscribed'),
    `no pong: ${JSON.stringify(socket.received)}`);
});

test('after a dropped connection it is stale, reconnects, and resumes from where it was', async (t) => {
  const { client } = await newUser(t);
  const sockets = recordingSockets();
  const live = liveClient(t, client, sockets.Socket);
  const events = recorder(live, EVENTS);
  live.subscribe('user');
  live.subscribe('feed:user');
  live.start();
  await events.next('status', (d) => d.status === 'connected');
  await client.createTask({ title: 'seen' });
  const seen = await events.next('delta');
  const seenEntry = await events.next('feed');

  // The connection is cut under the client, as when its network goes.
  sockets.made[0].terminate();
  const down = await events.next('status', (d) => d.status === 'disconnected');
  // Made before the client is back (it waits at least 250 ms), so that it usually learns of
  // it by resuming.
  const missed = await client.createTask({ title: 'missed' });
  const replayed = await events.next('delta');
  const entry = await events.next('feed', (d) => d.entry.target_id === missed.id);
  await events.next('status', (d) => d.status === 'connected');
  live.stop();

  assert.ok(down.staleSince instanceof Date, 'stale since the connection dropped');
  assert.deepEqual(sockets.made[1].sent.slice(1, 3), [
    { type: 'subscribe', topic: 'user', since_version: seen.version },
    { type: 'subscribe', topic: 'feed:user', since: seenEntry.entry.id },
  ]);
  assert.equal(replayed.version, seen.version + 1);
  assert.equal(entry.entry.action, 'task.create');
  assert.equal(events.seen.filter((e) => e.type === 'snapshot').length, 1, 'resumed, not a new snapshot');
  assert.deepEqual(statuses(events),
    ['connecting', 'connected', 'disconnected', 'connecting', 'connected', 'disconnected']);
});

test('a renewed token goes to the open session, which keeps its socket and its topic', async (t) => {
  const { client } = await newUser(t);
  const sockets = recordingSockets();
  const live = liveClient(t, client, sockets.Socket);
  const events = recorder(live, EVENTS);
  live.subscribe('user');
  live.start();
  const snapshot = await events.next('snapshot');
  await events.next('status', (d) => d.status === 'connected');
  const first = client.tokens.accessToken;

  // A real renewal: the server answers a new token pair, and the client hands it over in band.
  await client.tokens.renewNow();
  const renewed = client.tokens.accessToken;
  const authenticated = await events.next('authenticated',
    (d) => Date.parse(d.expires_at) / 1000 === tokenExpiry(renewed));
  await client.createTask({ title: 'after the renewal' });
  const delta = await events.next('delta');
  const [socket] = sockets.made;
  const open = socket.readyState === WebSocket.OPEN;
  live.stop();

  assert.equal(sockets.made.length, 1, 'no second session');
  assert.ok(open, 'the socket was still open');
  assert.notEqual(renewed, first);
  assert.deepEqual(socket.sent.slice(0, 3), [
    { type: 'auth', access_token: first },
    { type: 'subscribe', topic: 'user' },
    { type: 'ping', id: 'subscribed' },
  ]);
  // Then only tokens: this renewal, and any the client made by itself meanwhile.
  assert.ok(socket.sent.slice(3).every((m) => m.type === 'auth'), JSON.stringify(socket.sent));
  assert.ok(socket.sent.some((m) => m.type === 'auth' && m.access_token === renewed), 'the renewed token sent');
  assert.equal(authenticated.type, 'authenticated', 'answered, with the new token\'s expiry');
  assert.equal(delta.version, snapshot.version + 1);
  assert.equal(events.seen.filter((e) => e.type === 'snapshot').length, 1, 'subscribed once');
  assert.deepEqual(statuses(events), ['connecting', 'connected', 'disconnected'], 'only the stop() at the end');
});

test("another user's token is reported as user_mismatch, and the client starts over as that user", async (t) => {
  const { client } = await newUser(t, 'ann');
  const { client: other, email } = await newUser(t, 'bob');
  await other.createTask({ title: 'one of bob' });
  await other.createTask({ title: 'two of bob' });
  const sockets = recordingSockets();
  const live = liveClient(t, client, sockets.Socket);
  const events = recorder(live, EVENTS);
  live.subscribe('user');
  live.start();
  const ann = await events.next('snapshot');
  await events.next('status', (d) => d.status === 'connected');

  // The same Client signs in as someone else: its new token reaches the open session.
  await client.login({ email, password: PASSWORD });
  const bobToken = client.tokens.accessToken;
  const mismatch = await events.next('error');
  const bob = await events.next('snapshot');
  await events.next('status', (d) => d.status === 'connected');
  live.stop();

  assert.equal(mismatch.code, 'user_mismatch');
  assert.equal(mismatch.topic, undefined);
  const [first, second] = sockets.made;
  assert.ok(first.received.some((m) => m.type === 'error' && m.code === 'user_mismatch'));
  assert.equal(first.closedWith, 1000, 'the client left the old session');
  assert.deepEqual(second.sent.slice(0, 2), [
    { type: 'auth', access_token: bobToken },
    { type: 'subscribe', topic: 'user' }, // not resumed from ann's version
  ]);
  assert.equal(ann.stats.total, 0);
  assert.equal(bob.stats.total, 2);
});

test('a refused token is reported as invalid_token, and the client renews and resumes', async (t) => {
  const { client } = await newUser(t);
  const sockets = recordingSockets();
  const live = liveClient(t, client, sockets.Socket);
  const events = recorder(live, EVENTS);
  live.subscribe('user');
  live.start();
  const snapshot = await events.next('snapshot');
  await events.next('status', (d) => d.status === 'connected');

  // A token the server cannot verify, with the session's real refresh token beside it.
  client.tokens.adopt({ access_token: 'not-a-token', refresh_token: client.tokens.refreshToken, expires_in: 600 });
  const refused = await events.next('error');
  await events.next('status', (d) => d.status === 'connected');
  await client.createTask({ title: 'after the refusal' });
  const delta = await events.next('delta');
  live.stop();

  assert.equal(refused.code, 'invalid_token');
  const [first, second] = sockets.made;
  assert.deepEqual(first.sent.at(-1), { type: 'auth', access_token: 'not-a-token' });
  assert.equal(second.sent[0].type, 'auth');
  assert.ok(tokenExpiry(second.sent[0].access_token) !== null, 'a renewed token, not the refused one');
  assert.deepEqual(second.sent[1], { type: 'subscribe', topic: 'user', since_version: snapshot.version });
  assert.equal(delta.version, snapshot.version + 1);
  assert.equal(events.seen.filter((e) => e.type === 'snapshot').length, 1, 'resumed, not a new snapshot');
});

test('a feed resumed from an unknown entry is followed afresh, without an error event', async (t) => {
  const { client } = await newUser(t);
  const sockets = recordingSockets();
  const live = liveClient(t, client, sockets.Socket);
  const events = recorder(live, EVENTS);
  const unknown = randomUUID();

  live.subscribe('feed:user', { since: unknown });
  live.start();
  await events.next('status', (d) => d.status === 'connected');
  const task = await client.createTask({ title: 'followed' });
  await events.next('feed', (d) => d.entry.target_id === task.id);
  live.stop();

  const [socket] = sockets.made;
  assert.ok(socket.received.some((m) => m.type === 'error' && m.code === 'invalid_since'),
    `the server did not refuse the position: ${JSON.stringify(socket.received)}`);
  assert.deepEqual(events.seen.filter((e) => e.type === 'error'), []);
  assert.deepEqual(live.topics, ['feed:user']);
  assert.deepEqual(socket.sent.slice(1, 2), [{ type: 'subscribe', topic: 'feed:user', since: unknown }]);
  assert.deepEqual(withoutRenewals(socket.sent).slice(-2),
    [{ type: 'subscribe', topic: 'feed:user' }, { type: 'ping', id: 'subscribed' }]);
});
