// Personal access tokens through the client: created (shown once), used by another Client in
// place of a sign-in, refused on writes when read-only, and revoked.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, PERSONAL_TOKEN_PREFIX, ProblemError } from '../src/index.js';
import { baseUrl, newUser } from './helpers.js';

/** A Client that presents `token` instead of signing in, closed when test `t` ends. */
async function clientWith(t, token) {
  const client = new Client({ baseUrl });
  t.after(() => client.close());
  await client.useAccessToken(token);
  return client;
}

test('a read token reads, is refused writes, and stops working once revoked', async (t) => {
  const { client, email } = await newUser(t, 'pat');
  const created = await client.createToken({ name: 'report script', scopes: ['read'], expires_in_days: 7 });
  assert.ok(created.token.startsWith(PERSONAL_TOKEN_PREFIX), created.token);

  const script = await clientWith(t, created.token);
  assert.equal((await script.me()).email, email);
  const refused = await script.createTask({ title: 'not allowed' }).catch((err) => err);
  assert.ok(refused instanceof ProblemError, `${refused}`);
  assert.equal(refused.status, 403);
  assert.equal(refused.code, 'insufficient_scope');

  const listed = await client.listTokens();
  assert.deepEqual(listed.items.map((token) => token.id), [created.id]);
  assert.equal(listed.items[0].token, undefined);
  await client.revokeToken(created.id);

  const revoked = await script.me().catch((err) => err);
  assert.equal(revoked.status, 401);
  assert.deepEqual((await client.listTokens()).items, []);
});

test('a token cannot create tokens', async (t) => {
  const { client } = await newUser(t, 'pat');
  const created = await client.createToken({ name: 'writer', scopes: ['read', 'write'] });
  const script = await clientWith(t, created.token);

  await script.createTask({ title: 'allowed' });
  const error = await script.createToken({ name: 'child', scopes: ['read'] }).catch((err) => err);

  assert.equal(error.status, 403);
  assert.equal(error.code, 'insufficient_scope');
});
