// Notifications through the client: the inbox and its read state over REST, and the
// `notifications` topic streaming each one as it is made.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { liveClient, newUser, recorder, waitFor } from './helpers.js';

test('a share reaches the inbox and the live topic, and is marked read', async (t) => {
  const { client: ann } = await newUser(t, 'Ann');
  const { client: bob, user: bobUser } = await newUser(t, 'Bob');
  const live = liveClient(t, bob);
  const events = recorder(live, ['subscribed', 'notification']);
  live.subscribe('notifications');
  live.start();
  await events.next('subscribed', (d) => d.topic === 'notifications');

  const task = await ann.createTask({ title: 'Ship v2' });
  await ann.shareTask(task.id, { user_id: bobUser.id, permission: 'view' });
  const message = await events.next('notification');
  let unread;
  await waitFor(async () => {
    unread = await bob.listNotifications({ unread: true });
    return unread.items.length === 1;
  });
  await bob.markNotificationRead(unread.items[0].id);
  const afterOne = await bob.listNotifications({ unread: true });
  await bob.markAllNotificationsRead();
  live.stop();

  assert.equal(message.notification.kind, 'task_shared');
  assert.equal(message.notification.task_id, task.id);
  assert.deepEqual(unread.items[0], message.notification);
  assert.deepEqual(afterOne.items, []);
  assert.equal(live.lastEntry('notifications'), message.notification.id);
});
