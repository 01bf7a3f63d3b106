// The live client against a real server: snapshot then consecutive deltas, feed entries,
// forbidden topics, revoked membership, and renewed tokens taken by the open session.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokenExpiry } from '../src/index.js';
import { liveClient, newUser, recorder, recordingSockets, waitFor } from './helpers.js';

const EVENTS = ['status', 'snapshot', 'delta', 'subscribed', 'feed', 'revoked', 'error', 'signedout', 'authenticated'];

test('a dashboard topic answers a snapshot, then deltas one version apart', async (t) => {
  const { client } = await newUser(t);
  await client.createTask({ title: 'before' });
  const live = liveClient(t, client);
  const events = recorder(live, EVENTS);

  live.subscribe('user');
  live.start();
  const snapshot = await events.next('snapshot');
  await events.next('status', (d) => d.status === 'connected');
  await client.createTask({ title: 'first' });
  await client.createTask({ title: 'second', status: 'completed' });
  const first = await events.next('delta');
  const second = await events.next('delta');
  live.stop();

  assert.equal(snapshot.stats.total, 1);
  assert.equal(first.version, snapshot.version + 1);
  assert.equal(second.version, snapshot.version + 2);
  assert.equal(second.stats.total, 3);
  assert.equal(second.stats.completed, 1);
  assert.equal(live.version('user'), second.version);
});

test('a feed topic streams audit entries as they commit', async (t) => {
  const { client, user } = await newUser(t);
  const live = liveClient(t, client);
  const events = recorder(live, EVENTS);

  live.subscribe('feed:user');
  live.start();
  await events.next('subscribed', (d) => d.topic === 'feed:user');
  const task = await client.createTask({ title: 'watched' });
  await client.updateTask(task.id, { status: 'completed' });
  const created = await events.next('feed', (d) => d.entry.action === 'task.create');
  const completed = await events.next('feed', (d) => d.entry.action === 'task.update');
  live.stop();

  assert.equal(created.entry.target_id, task.id);
  assert.equal(created.entry.actor_id, user.id);
  assert.equal(completed.entry.target_id, task.id);
  assert.equal(completed.entry.details.status, 'completed');
  assert.equal(live.lastEntry('feed:user'), completed.entry.id);
});

test('a team the caller is not in is forbidden, and the topic is dropped', async (t) => {
  const { client: owner } = await newUser(t, 'owner');
  const team = await owner.createTeam({ name: 'Private' });
  const { client: stranger } = await newUser(t, 'stranger');
  const live = liveClient(t, stranger);
  const events = recorder(live, EVENTS);

  live.subscribe('user');
  live.subscribe(`team:${team.id}`);
  live.start();
  const error = await events.next('error');
  await events.next('status', (d) => d.status === 'connected');
  live.stop();

  assert.equal(error.code, 'forbidden');
  assert.equal(error.topic, `team:${team.id}`);
  assert.deepEqual(live.topics, ['user']);
});

test('losing team membership revokes the topic', async (t) => {
  const { client: owner } = await newUser(t, 'owner');
  const { client: member, user } = await newUser(t, 'member');
  const team = await owner.createTeam({ name: 'Platform' });
  await owner.addMember(team.id, { user_id: user.id, role: 'member' });
  const live = liveClient(t, member);
  const events = recorder(live, EVENTS);
  live.subscribe(`team:${team.id}`);
  live.start();
  await events.next('snapshot');

  await owner.removeMember(team.id, user.id);
  const revoked = await events.next('revoked');
  live.stop();

  assert.equal(revoked.reason, 'membership_revoked');
  assert.deepEqual(live.topics, []);
});

test('topics keep delivering on the same socket after the first token has expired', async (t) => {
  const { client } = await newUser(t);
  const expiresAt = tokenExpiry(client.tokens.accessToken) * 1000;
  if (expiresAt - Date.now() > 20_000) {
    // skip() only marks the test: without the return it would still wait a lifetime.
    t.skip('needs access tokens of a few seconds (--access-token-ttl)');
    return;
  }
  const sockets = recordingSockets();
  const live = liveClient(t, client, sockets.Socket);
  const events = recorder(live, EVENTS);
  live.subscribe('user');
  live.start();
  await events.next('snapshot');
  await events.next('status', (d) => d.status === 'connected');
  const from = events.seen.length;

  // Past the first token's expiry, when the server closes a session that did not renew (4401).
  const authenticated = await events.next('authenticated', () => true, expiresAt - Date.now() + 5_000);
  await waitFor(() => Date.now() > expiresAt + 1_000, expiresAt - Date.now() + 2_000, 'the first token expiring');
  await client.createTask({ title: 'after the first expiry' });
  const delta = await events.next('delta');
  const [socket] = sockets.made;
  const open = socket.readyState === socket.OPEN;
  live.stop();

  assert.equal(sockets.made.length, 1, 'one socket, one session');
  assert.ok(open, 'the server did not close it');
  assert.ok(Date.parse(authenticated.expires_at) > expiresAt, `renewed until ${authenticated.expires_at}`);
  const drops = events.seen.slice(from).filter((e) => e.type === 'status' && e.detail.status !== 'connected');
  assert.deepEqual(drops.map((e) => e.detail.status), ['disconnected'], 'only the stop() at the end');
  assert.equal(delta.stats.total, 1);
});

test('stop() ends the session and start() resumes where it was', async (t) => {
  const { client } = await newUser(t);
  const live = liveClient(t, client);
  const events = recorder(live, EVENTS);
  live.subscribe('user');
  live.start();
  const snapshot = await events.next('snapshot');
  live.stop();
  await client.createTask({ title: 'while stopped' });

  live.start();
  const replayed = await events.next('delta');
  await waitFor(() => live.status === 'connected');
  live.stop();

  assert.equal(replayed.version, snapshot.version + 1);
  assert.equal(events.seen.filter((e) => e.type === 'snapshot').length, 1, 'resumed, not a new snapshot');
});
