// Trends topics and zones on the live client, against a real server: the snapshot, deltas whose
// buckets the client puts in place (what it holds is what REST answers), a resume that ends
// with `subscribed`, the subscribe options on the wire, and `tz` on an aggregate topic.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addDays, liveClient, newUser, recorder, recordingSockets, zoneAwayFromUtc } from './helpers.js';

const EVENTS = ['status', 'snapshot', 'delta', 'subscribed', 'error'];

/** What the client holds, without `as_of` (deltas do not carry the time of the change). */
const held = ({ as_of: _, ...trends }) => trends;

test('a trends topic keeps the buckets each delta moved, as REST answers them', async (t) => {
  const { client } = await newUser(t);
  const { tz, today } = zoneAwayFromUtc();
  const from = addDays(today, -3);
  const live = liveClient(t, client);
  const events = recorder(live, EVENTS);

  live.subscribe('trends:user', { tz, interval: 'day', from });
  live.start();
  const snapshot = await events.next('snapshot');
  const task = await client.createTask({ title: 'followed' });
  const created = await events.next('delta');
  await client.updateTask(task.id, { status: 'completed' });
  const completed = await events.next('delta');
  await client.updateTask(task.id, { priority: 'high' });
  const reprioritised = await events.next('delta');
  const rest = await client.trends({ tz, interval: 'day', from });
  live.stop();

  assert.equal(snapshot.trends.tz, tz);
  assert.deepEqual(snapshot.trends.buckets.map((b) => b.start), [from, addDays(today, -2), addDays(today, -1), today]);
  assert.deepEqual(created.buckets.map((b) => [b.start, b.created]), [[today, 1]]);
  assert.equal(created.trends.buckets[3].created, 1);
  assert.equal(completed.trends.buckets[3].completed, 1);
  assert.equal(completed.trends.buckets[3].lead_time_hours.count, 1);
  assert.deepEqual(reprioritised.buckets, [], 'a priority change moves no bucket');
  assert.equal(reprioritised.version, snapshot.version + 3);
  assert.deepEqual(held(live.trends('trends:user')), held(rest));
  assert.equal(live.trends('trends:user').version, rest.version);
});

test('a trends resume replays what was missed, then subscribed says it is live again', async (t) => {
  const { client } = await newUser(t);
  const sockets = recordingSockets();
  const live = liveClient(t, client, sockets.Socket);
  const events = recorder(live, EVENTS);
  live.subscribe('trends:user', { tz: 'Europe/Berlin', interval: 'week' });
  live.subscribe('user', { tz: 'Europe/Berlin' });
  live.start();
  // Both snapshots, in whichever order the session sends them, before the connection drops.
  const snapshots = [await events.next('snapshot'), await events.next('snapshot')];
  const snapshot = snapshots.find((d) => d.topic === 'trends:user');
  assert.ok(snapshots.some((d) => d.topic === 'user'));
  await events.next('status', (d) => d.status === 'connected');
  live.stop();
  await client.createTask({ title: 'missed' });
  await client.createTask({ title: 'missed too' });

  live.start();
  // Both topics say they are live again, in whichever order the session sends them.
  const liveAgain = [await events.next('subscribed'), await events.next('subscribed')];
  const resumed = liveAgain.find((d) => d.topic === 'trends:user');
  assert.ok(liveAgain.some((d) => d.topic === 'user'));
  await events.next('status', (d) => d.status === 'connected');
  const rest = await client.trends({ tz: 'Europe/Berlin', interval: 'week' });
  live.stop();

  assert.deepEqual(sockets.made[1].sent.slice(1, 3), [
    { type: 'subscribe', topic: 'trends:user', tz: 'Europe/Berlin', interval: 'week', since_version: snapshot.version },
    { type: 'subscribe', topic: 'user', tz: 'Europe/Berlin', since_version: snapshot.version },
  ]);
  assert.equal(resumed.version, snapshot.version + 2);
  assert.equal(live.version('trends:user'), resumed.version);
  assert.equal(events.seen.filter((e) => e.type === 'snapshot').length, 2, 'resumed, not new snapshots');
  assert.deepEqual(held(live.trends('trends:user')), held(rest));
  assert.deepEqual(events.seen.filter((e) => e.type === 'error'), []);
});

test('an aggregate topic with tz counts its activity in that zone', async (t) => {
  const { client } = await newUser(t);
  const { tz, today } = zoneAwayFromUtc();
  await client.createTask({ title: 'today, there' });
  const live = liveClient(t, client);
  const events = recorder(live, EVENTS);

  live.subscribe('user', { tz });
  live.start();
  const snapshot = await events.next('snapshot');
  live.stop();

  const days = snapshot.activity.days;
  assert.equal(days.length, 30);
  assert.deepEqual(days.at(-1), { date: today, created: 1, completed: 0 });
});

test('an option the topic does not take is refused before anything is sent', async (t) => {
  const { client } = await newUser(t);
  const live = liveClient(t, client);

  assert.throws(() => live.subscribe('user', { interval: 'week' }), TypeError);
  assert.throws(() => live.subscribe('team:x', { from: '2026-01-01' }), TypeError);
  assert.throws(() => live.subscribe('feed:user', { tz: 'UTC' }), TypeError);
  assert.deepEqual(live.topics, []);
});
