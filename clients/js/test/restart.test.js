// A server stopped and started again mid-stream: the live client goes stale, reconnects with
// backoff, and resumes where it left off (the deltas it missed, the feed entries after
// `since`) instead of starting over.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { control, liveClient, newUser, recorder } from './helpers.js';

const EVENTS = ['status', 'snapshot', 'delta', 'subscribed', 'feed', 'error'];

/** Stops the server until the client has seen it, starts it, then makes `change` at once. */
async function restartWith(events, change) {
  await control('stop');
  const down = await events.next('status', (d) => d.status === 'disconnected');
  await control('start');
  // Made before the client is back (it waits at least 250 ms between attempts), so that it
  // usually learns of it by resuming.
  const changed = await change();
  await events.next('status', (d) => d.status === 'connected', 20_000);
  return { down, changed };
}

test('a dashboard topic resumes with since_version across a server restart', async (t) => {
  const { client } = await newUser(t);
  await client.createTask({ title: 'before' });
  const live = liveClient(t, client);
  const events = recorder(live, EVENTS);
  live.subscribe('user');
  live.start();
  const snapshot = await events.next('snapshot');
  await events.next('status', (d) => d.status === 'connected');
  await client.createTask({ title: 'live' });
  await events.next('delta');

  const { down } = await restartWith(events, () => client.createTask({ title: 'while away' }));
  const replayed = await events.next('delta');

  assert.ok(down.staleSince instanceof Date, 'stale since the connection dropped');
  assert.equal(replayed.version, snapshot.version + 2);
  assert.equal(replayed.stats.total, 3);
  assert.equal(events.seen.filter((e) => e.type === 'snapshot').length, 1, 'resumed, not a new snapshot');
});

test('a feed topic resumes with since across a server restart', async (t) => {
  const { client } = await newUser(t);
  const live = liveClient(t, client);
  const events = recorder(live, EVENTS);
  live.subscribe('feed:user');
  live.start();
  await events.next('subscribed');
  await client.createTask({ title: 'live' });
  const seen = await events.next('feed', (d) => d.entry.action === 'task.create');

  const { changed } = await restartWith(events, () => client.createTask({ title: 'while away' }));
  const entry = await events.next('feed', (d) => d.entry.target_id === changed.id);

  assert.equal(entry.entry.action, 'task.create');
  const ids = events.seen.filter((e) => e.type === 'feed').map((e) => e.detail.entry.id);
  assert.equal(new Set(ids).size, ids.length, 'no entry twice');
  assert.ok(ids.indexOf(seen.entry.id) < ids.indexOf(entry.entry.id));
});
