// Webhooks through the client: made (the secret shown once), a creation delivered to a real
// HTTP server in this test with the Standard Webhooks headers, the attempt in the delivery log,
// bad URLs refused as problems, and deletion.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { ProblemError } from '../src/index.js';
import { newUser, waitFor } from './helpers.js';

/** An HTTP server on this machine that answers 204 and keeps what it was sent. */
async function receiver(t) {
  const received = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      received.push({ headers: request.headers, body: JSON.parse(body) });
      response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, received };
}

test('a webhook hears a creation, signed, and logs the delivery', async (t) => {
  const { client } = await newUser(t, 'hooks');
  const { url, received } = await receiver(t);

  const hook = await client.createWebhook({ url, events: ['task.created'] });
  assert.ok(hook.secret.startsWith('whsec_'), hook.secret);
  const task = await client.createTask({ title: 'hooked' });
  await waitFor(() => received.length === 1, 10_000, 'the delivery');

  const [{ headers, body }] = received;
  assert.equal(body.type, 'task.created');
  assert.equal(body.data.task_id, task.id);
  assert.equal(headers['webhook-id'], body.id);
  assert.match(headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/);
  assert.match(headers['webhook-timestamp'], /^\d+$/);
  const listed = await client.listWebhooks();
  assert.deepEqual(listed.items.map((item) => item.id), [hook.id]);
  assert.equal(listed.items[0].secret, undefined);
  await waitFor(async () => (await client.listWebhookDeliveries(hook.id)).items.length === 1,
    5_000, 'the log entry');
  const [delivery] = (await client.listWebhookDeliveries(hook.id)).items;
  assert.equal(delivery.status, 'delivered');
  assert.equal(delivery.event_id, body.id);
  await client.deleteWebhook(hook.id);
  assert.deepEqual((await client.listWebhooks()).items, []);
});

test('a URL pointing at link-local addresses is refused as a problem', async (t) => {
  const { client } = await newUser(t, 'hooks');

  const refused = await client
    .createWebhook({ url: 'http://169.254.169.254/latest', events: ['task.created'] })
    .catch((err) => err);

  assert.ok(refused instanceof ProblemError, `${refused}`);
  assert.equal(refused.status, 422);
  assert.equal(refused.code, 'validation_failed');
  assert.equal(refused.errors[0].field, 'url');
});
