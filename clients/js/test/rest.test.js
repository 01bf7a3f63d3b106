// The REST client against a real server: typed answers, problem+json errors, pagination and
// token renewal.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, ProblemError } from '../src/index.js';
import { PASSWORD, baseUrl, newUser } from './helpers.js';

test('a new account reads itself and its tasks', async (t) => {
  const { client, email } = await newUser(t, 'ann');
  const created = await client.createTask({ title: 'write the client', priority: 'high' });
  const me = await client.me();
  const task = await client.getTask(created.id);

  assert.equal(me.email, email);
  assert.equal(task.title, 'write the client');
  assert.equal(task.priority, 'high');
  assert.equal(task.status, 'pending');
  assert.equal(task.owner_id, me.id);
});

test('a refused request is a ProblemError with the problem details', async (t) => {
  const { client } = await newUser(t);

  const error = await client.createTask({ title: '' }).catch((err) => err);

  assert.ok(error instanceof ProblemError, `${error}`);
  assert.equal(error.status, 422);
  assert.equal(error.code, 'validation_failed');
  assert.equal(typeof error.title, 'string');
  assert.equal(typeof error.detail, 'string');
  assert.ok(error.errors.some((e) => e.field === 'title'), JSON.stringify(error.errors));
});

test('an unknown task is 404 not_found and a stale If-Match is 412 version_mismatch', async (t) => {
  const { client } = await newUser(t);
  const task = await client.createTask({ title: 'versioned' });
  await client.updateTask(task.id, { status: 'in_progress' }, { ifMatch: task.version });

  const missing = await client.getTask('0190b8f8-0000-7000-8000-000000000000').catch((err) => err);
  const stale = await client.updateTask(task.id, { status: 'completed' }, { ifMatch: task.version }).catch((err) => err);

  assert.equal(missing.status, 404);
  assert.equal(missing.code, 'not_found');
  assert.equal(stale.status, 412);
  assert.equal(stale.code, 'version_mismatch');
});

test('all() reads every page of a list', async (t) => {
  const { client } = await newUser(t);
  for (let i = 0; i < 5; i++) await client.createTask({ title: `task ${i}` });

  const titles = [];
  for await (const task of client.all(client.listTasks, { scope: 'own', limit: 2 })) titles.push(task.title);

  assert.deepEqual(titles.sort(), ['task 0', 'task 1', 'task 2', 'task 3', 'task 4']);
});

test('renewing rotates the tokens, and the old refresh token is refused as reused', async (t) => {
  const { client, email } = await newUser(t);
  const first = client.tokens.refreshToken;
  await client.tokens.renewNow();
  const second = client.tokens.refreshToken;

  const reuse = new Client({ baseUrl });
  reuse.tokens.adopt({ access_token: client.tokens.accessToken, refresh_token: first, expires_in: 0 });
  const error = await reuse.tokens.renewNow().catch((err) => err);
  reuse.close();

  assert.notEqual(first, second);
  assert.equal(error.status, 401);
  assert.equal(error.code, 'refresh_token_reused');
  // The reuse revoked the whole family: the account signs in again.
  const again = new Client({ baseUrl });
  await again.login({ email, password: PASSWORD });
  assert.equal((await again.me()).email, email);
  again.close();
});

test('wrong credentials are 401 invalid_credentials', async (t) => {
  const client = new Client({ baseUrl });

  const error = await client.login({ email: 'nobody@example.com', password: 'not the password' }).catch((err) => err);

  assert.ok(error instanceof ProblemError);
  assert.equal(error.status, 401);
  assert.equal(error.code, 'invalid_credentials');
});
