#!/usr/bin/env node
// In-app notification latency (BENCHMARKS.md): `--users` pairs, each sharer sharing one task
// with its receiver over and over (the permission flips, so every share is a change that
// notifies), `--rate` shares a second in all for `--duration` seconds; every receiver follows
// the `notifications` topic on a WebSocket. Prints one JSON object: shares sent, notifications
// received, and commit → `notification` message (the notification's `at`, its change's time,
// to its arrival) p50/p99/max in ms.
//
//   node scripts/bench-notifications.mjs --url http://127.0.0.1:8080 [--rate 200] [--duration 8]
//
// Run by scripts/bench-webhooks against its release server; loopback only.

import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, LiveClient } from '../clients/js/src/index.js';

const require = createRequire(new URL('../clients/js/package.json', import.meta.url));
const WebSocket = require('ws');

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    rate: { type: 'string', default: '200' },
    duration: { type: 'string', default: '8' },
    users: { type: 'string', default: '20' },
  },
});
const baseUrl = values.url;
if (!/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(baseUrl ?? '')) {
  throw new Error('--url must be a loopback http URL');
}
const rate = Number(values.rate);
const seconds = Number(values.duration);
const pairs = Number(values.users);

async function account(name) {
  const client = new Client({ baseUrl });
  const answer = await client.register({
    email: `${name}-${randomUUID()}@example.com`,
    password: 'bench password 123',
    display_name: name,
  });
  return { client, user: answer.user };
}

const delays = [];
const lives = [];
const sharers = [];
for (let i = 0; i < pairs; i += 1) {
  const sharer = await account(`sharer${i}`);
  const receiver = await account(`receiver${i}`);
  const task = await sharer.client.createTask({ title: `shared ${i}` });
  const live = new LiveClient(receiver.client, { WebSocket });
  const subscribed = new Promise((resolve) => live.addEventListener('subscribed', resolve, { once: true }));
  live.addEventListener('notification', (event) => {
    delays.push(Date.now() - Date.parse(event.detail.notification.at));
  });
  live.subscribe('notifications');
  live.start();
  await subscribed;
  lives.push(live);
  sharers.push({ client: sharer.client, task: task.id, to: receiver.user.id });
}

let sent = 0;
let failed = 0;
const started = Date.now();
const total = Math.round(rate * seconds);
const inFlight = [];
for (let n = 0; n < total; n += 1) {
  const due = started + (n * 1000) / rate;
  const wait = due - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const pair = sharers[n % pairs];
  const permission = Math.floor(n / pairs) % 2 === 0 ? 'edit' : 'view';
  inFlight.push(pair.client.shareTask(pair.task, { user_id: pair.to, permission })
    .then(() => { sent += 1; }, () => { failed += 1; }));
}
await Promise.all(inFlight);
const deadline = Date.now() + 10_000;
while (delays.length < sent && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
for (const live of lives) live.stop();
for (const pair of sharers) pair.client.close();

delays.sort((a, b) => a - b);
const pick = (q) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))];
// The receivers' token renewals would keep Node alive: exit once the figures are out.
process.stdout.write(`${JSON.stringify({
  shares: sent,
  failed,
  notifications: delays.length,
  p50_ms: pick(0.5),
  p99_ms: pick(0.99),
  max_ms: delays[delays.length - 1],
})}\n`, () => process.exit(0));
