// The live client's side of the protocol on the wire, against the real server: what it sends
// (authentication first, resume positions, the hand-over to a renewed token) and what it does
// with the server's answers. The cases no healthy server produces on demand are scripted in
// live-protocol.test.js.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { baseUrl, liveClient, newUser, recorder, recordingSockets, waitFor } from './helpers.js';

const EVENTS = ['status', 'snapshot', 'delta', 'subscribed', 'feed', 'error'];

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
  assert.deepEqual(socket.sent, [
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

test('a renewed token opens a second socket, which replaces the first once it speaks', async (t) => {
  const { client } = await newUser(t);
  const sockets = recordingSockets();
  const live = liveClient(t, client, sockets.Socket);
  const events = recorder(live, EVENTS);
  live.subscribe('user');
  live.start();
  const snapshot = await events.next('snapshot');
  await events.next('status', (d) => d.status === 'connected');

  // A real renewal: the server answers a new token pair, and the client moves to it.
  await client.tokens.renewNow();
  await waitFor(() => sockets.made[0].closedWith !== null, 5_000, 'the first socket closing');
  await client.createTask({ title: 'on the new socket' });
  const delta = await events.next('delta');
  live.stop();

  const [first, second] = sockets.made;
  assert.equal(second.sent[0].type, 'auth');
  assert.notEqual(second.sent[0].access_token, first.sent[0].access_token, 'the renewed token');
  assert.deepEqual(second.sent.slice(1, 3), [
    { type: 'subscribe', topic: 'user', since_version: snapshot.version },
    { type: 'ping', id: 'subscribed' },
  ]);
  assert.equal(first.closedWith, 1000);
  const spoke = sockets.log.findIndex((e) => e.socket === second.index && e.event === 'received');
  const closed = sockets.log.findIndex((e) => e.socket === first.index && e.event === 'closed');
  assert.ok(spoke >= 0 && closed > spoke, 'the first socket is closed only once the second has spoken');
  assert.equal(delta.version, snapshot.version + 1);
  assert.ok(second.received.some((m) => m.type === 'delta' && m.version === delta.version), 'on the new socket');
  assert.equal(events.seen.filter((e) => e.type === 'snapshot').length, 1, 'resumed, not a new snapshot');
  assert.deepEqual(statuses(events), ['connecting', 'connected', 'disconnected'], 'only the stop() at the end');
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
  assert.deepEqual(socket.sent.slice(-2), [{ type: 'subscribe', topic: 'feed:user' }, { type: 'ping', id: 'subscribed' }]);
});
