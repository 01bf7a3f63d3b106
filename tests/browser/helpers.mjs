// What the browser flows share: talking to the server over REST as the test's user, waiting
// for the page, axe-core, and a page on /dashboard that records its errors and connection states.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// How long the page may take to show what the server holds: a deadline for correctness on a
// loaded machine, not a speed target (BENCHMARKS.md measures the write → WebSocket latency).
export const WITHIN = 10_000;

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export const say = (line) => process.stdout.write(`${line}\n`);
export const step = (what) => console.error(`dashboard.mjs: ${what}`);

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** REST calls as the account `email` on the server at `baseUrl`. */
export function rest(baseUrl, email, password) {
  async function login() {
    const response = await fetch(`${baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    check(response.ok, `login answered ${response.status}`);
    return response.json();
  }

  async function getJson(token, path) {
    const response = await fetch(`${baseUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    check(response.ok, `GET ${path} answered ${response.status}`);
    return response.json();
  }

  async function send(token, method, path, body) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    check(response.ok, `${method} ${path} answered ${response.status}`);
    return response.json();
  }

  return {
    login,
    getJson,
    send,
    signIn: async () => (await login()).access_token,
    createTask: (token, body) => send(token, 'POST', '/api/v1/tasks', body),
  };
}

/** Polls `read()` until `accept(value)` holds, failing with `describe(value)` after `timeout` ms. */
export async function waitUntil(read, accept, describe, timeout = WITHIN) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(describe(value));
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Runs axe-core on the page as it is: any violation fails, with what and where. */
export async function checkAccessibility(page, label) {
  // Evaluated over the DevTools protocol, which the page's CSP (script-src 'self') allows.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      rule: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
  });
  check(violations.length === 0, `axe-core, ${label}: ${JSON.stringify(violations, null, 2)}`);
  step(`axe-core: no violations (${label})`);
}

/** A page on /dashboard that records its errors and every connection state it takes. */
export async function openDashboard(context, baseUrl) {
  const page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/WebSocket|ERR_CONNECTION_REFUSED/.test(msg.text())) {
      problems.push(`console error: ${msg.text()}`);
    }
  });
  if (process.env.DASHBOARD_DEBUG) {
    page.on('console', (msg) => step(`console ${msg.type()}: ${msg.text()}`));
    page.on('response', (r) => { if (r.status() >= 400) step(`answer ${r.status()} to ${r.request().method()} ${r.url()}`); });
    page.on('websocket', (ws) => {
      step(`websocket ${ws.url()}`);
      ws.on('framesent', (f) => step(`ws > ${String(f.payload).replace(/"access_token":"[^"]+"/, '"access_token":"…"')}`));
      ws.on('framereceived', (f) => step(`ws < ${String(f.payload).slice(0, 120)}`));
      ws.on('socketerror', (e) => step(`ws error ${e}`));
      ws.on('close', () => step('ws closed'));
    });
  }
  // Every state the indicator takes, in order, seen by the page itself.
  await page.addInitScript(() => {
    window.connectionStates = [];
    new MutationObserver(() => {
      const node = document.getElementById('connection');
      if (node) window.connectionStates.push(node.dataset.state);
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
  });
  await page.goto(`${baseUrl}/dashboard`);
  return { page, problems };
}

/** Signs in through the page's form and waits until it is connected. */
export async function signInOnPage(page, email, password) {
  await page.locator('#login-email').fill(email);
  await page.locator('#login-password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForSelector('#connection[data-state="connected"]', { timeout: WITHIN });
}

const CARDS = ['total', 'pending', 'in-progress', 'completed', 'overdue', 'shared',
  'shared-with-me', 'shared-by-me'];

/** The numbers on the cards, as integers (null for a dash). */
export async function readCards(page) {
  return page.evaluate((ids) => Object.fromEntries(ids.map((id) => {
    const text = document.getElementById(`stat-${id}`).textContent.replace(/[^\d]/g, '');
    return [id.replace(/-/g, '_'), text === '' ? null : Number(text)];
  })), CARDS);
}

/** The statistics over REST, as the cards should show them (a team has no sharing). */
export async function cardsOverRest(getJson, token, teamId = null) {
  const query = teamId ? `?team_id=${teamId}` : '';
  const s = await getJson(token, `/api/v1/dashboard/statistics${query}`);
  const personal = s.shared_with_me !== undefined;
  return {
    total: s.total, pending: s.pending, in_progress: s.in_progress, completed: s.completed,
    overdue: s.overdue, shared: personal ? s.shared_with_me + s.shared_by_me : null,
    shared_with_me: personal ? s.shared_with_me : null, shared_by_me: personal ? s.shared_by_me : null,
  };
}

/** Waits until the cards show `expected` (or fails with both after `timeout` ms). */
export function waitForCards(page, expected, timeout = WITHIN) {
  return waitUntil(() => readCards(page), (shown) => JSON.stringify(shown) === JSON.stringify(expected),
    (shown) => `cards show ${JSON.stringify(shown)}, expected ${JSON.stringify(expected)}`, timeout);
}
