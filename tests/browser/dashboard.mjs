// Drives the live dashboard page (GET /dashboard) in headless Chromium.
//
//   node tests/browser/dashboard.mjs <base_url> <email> <password> [restart | token-refresh | trends | transfer | tokens | notifications]
//
// Run by tests/it/browser.rs, which starts the server and creates the account and its tasks.
// `restart` (the default) speaks with it, one line each on stdout: `CARDS <json>` (the numbers
// the page shows after signing in), `READY_TO_STOP` (then it waits for one line on stdin: the
// server has stopped), `STALE` (the page shows it; then it waits for another line: the server
// is serving again on the same address), `CARDS <json>` again after reconnecting, and `PASS`
// at the end. Along the way: the feed, the card drill-down, the team's members, sign-up from
// the page, and axe-core (0 violations) in light and dark mode and at phone width.
// `token-refresh` expects a server with short-lived access tokens: the page must stay connected
// across several expiries on its one socket (it refreshes the token and sends it on the open
// session, which answers `authenticated`, before the server would close it with 4401), then
// `PASS`.
// `trends` and `transfer` (history.mjs) run the browser in a time zone whose day is not UTC's,
// say `ZONE <tz> <its date> <UTC's date>` first and `PASS` at the end. The shared helpers are
// in helpers.mjs. `tokens` (tokens.mjs) drives the Tokens panel, then says `PASS`; `notifications`
// (notifications.mjs) the bell. Any failure exits 1 with the reason on stderr.
//
// Environment: CHROMIUM (default /usr/bin/chromium), DASHBOARD_SCREENSHOT (a PNG path; the
// sign-in forms, dark mode, a phone-width view and the stale state are saved beside it as
// <name>-signin.png, -dark.png, -phone.png and -stale.png), DASHBOARD_DEBUG=1 (log the page's
// console and WebSocket frames).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import {
  WITHIN, cardsOverRest, check, checkAccessibility, openDashboard, rest, say, signInOnPage, step, waitForCards,
} from './helpers.mjs';
import { runTransfer, runTrends, zoneAwayFromUtc } from './history.mjs';
import { runNotifications } from './notifications.mjs';
import { runTokens } from './tokens.mjs';

const MODES = ['restart', 'token-refresh', 'trends', 'transfer', 'tokens', 'notifications'];
const [baseUrl, email, password, mode = 'restart'] = process.argv.slice(2);
if (!baseUrl || !email || !password || !MODES.includes(mode)) {
  console.error(`usage: node dashboard.mjs <base_url> <email> <password> [${MODES.join(' | ')}]`);
  process.exit(2);
}
const screenshot = process.env.DASHBOARD_SCREENSHOT;
const { login, getJson, send, signIn, createTask } = rest(baseUrl, email, password);
const expectedCards = (token, teamId = null) => cardsOverRest(getJson, token, teamId);

const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

/** The task ids the drill-down lists, after its list has loaded. */
async function openDrillDown(page, card) {
  await page.locator(`.card[data-list="${card}"]`).click();
  await page.waitForFunction(() => /shown|No tasks/.test(document.getElementById('task-list-status').textContent),
    null, { timeout: WITHIN });
  return page.evaluate(() => [...document.querySelectorAll('#task-list-items li')].map((li) => li.dataset.taskId));
}

/** Every task of the caller's own scope over REST, for comparing with the drill-down. */
async function ownTasks(token) {
  const tasks = [];
  let cursor = '';
  do {
    const page = await getJson(token, `/api/v1/tasks?scope=own&limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    tasks.push(...page.items);
    cursor = page.next_cursor ? encodeURIComponent(page.next_cursor) : '';
  } while (cursor);
  return tasks;
}

const sameIds = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

async function run(context) {
  const { page, problems } = await openDashboard(context, baseUrl);
  const connection = page.locator('#connection');

  step('sign in');
  check((await page.title()).includes('taskpulse'), 'the page has no taskpulse title');
  check(!(await connection.isVisible()), 'a connection badge before sign-in');
  check(await page.locator('#signup-form').isVisible(), 'no sign-up form beside the sign-in');
  if (screenshot) await page.screenshot({ path: screenshot.replace(/\.png$/, '-signin.png') });
  await signInOnPage(page, email, password);
  check((await connection.textContent()).trim() === 'connected', 'the indicator text is not "connected"');

  const token = await signIn();
  const before = await waitForCards(page, await expectedCards(token), WITHIN);
  say(`CARDS ${JSON.stringify(before)}`);
  await page.waitForSelector('#breakdown-priority li', { timeout: WITHIN });
  await page.waitForSelector('#activity-chart svg rect.created', { state: 'attached', timeout: WITHIN });

  step('a new task shows up without a reload');
  const urgentBefore = Number(await page.locator('#breakdown-priority-urgent .bar-value').textContent());
  const navigations = [];
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations.push(frame.url()); });
  const started = Date.now();
  await createTask(token, { title: 'made while watching', priority: 'urgent' });
  await waitForCards(page, { ...before, total: before.total + 1, pending: before.pending + 1 }, WITHIN);
  step(`the card changed ${Date.now() - started} ms after the POST was sent`);
  check(navigations.length === 0, `the page navigated: ${navigations}`);
  // Deltas carry the statistics; the priority bars follow within a moment.
  await page.waitForFunction(
    (count) => document.querySelector('#breakdown-priority-urgent .bar-value')?.textContent === count,
    String(urgentBefore + 1), { timeout: WITHIN },
  );

  check(/^(just now|\d+ s ago)$/.test(await page.locator('#updated').textContent()),
    `"updated" says ${await page.locator('#updated').textContent()}`);
  await checkAccessibility(page, 'light, signed in');

  step('a task completed through REST shows in the feed');
  const finished = await createTask(token, { title: 'finished while watching' });
  await page.waitForSelector(`#feed-list li[data-target-id="${finished.id}"][data-action="task.create"]`, { timeout: WITHIN });
  const completedAt = Date.now();
  await send(token, 'PATCH', `/api/v1/tasks/${finished.id}`, { status: 'completed' });
  await page.waitForSelector(`#feed-list li[data-target-id="${finished.id}"][data-action="task.update"]`, { timeout: WITHIN });
  step(`the feed showed it ${Date.now() - completedAt} ms after the PATCH was sent`);
  await page.waitForFunction((id) => /completed “finished while watching”/.test(
    document.querySelector(`#feed-list li[data-target-id="${id}"][data-action="task.update"]`)?.textContent ?? '',
  ), finished.id, { timeout: WITHIN });

  step('the cards open the tasks behind them');
  const mine = await ownTasks(token);
  const pending = await openDrillDown(page, 'pending');
  const pendingIds = mine.filter((t) => t.status === 'pending').map((t) => t.id);
  check(sameIds(pending, pendingIds), `Pending lists ${pending.length} tasks, not the ${pendingIds.length} pending ones`);
  const overdue = await openDrillDown(page, 'overdue');
  const overdueIds = mine.filter((t) => t.status !== 'completed' && t.due_at && Date.parse(t.due_at) < Date.now()).map((t) => t.id);
  check(overdueIds.length > 0 && sameIds(overdue, overdueIds), `Overdue lists ${overdue}, not ${overdueIds}`);
  const shared = await openDrillDown(page, 'shared');
  const sharedIds = await getJson(token, '/api/v1/dashboard/shared')
    .then((s) => [...s.shared_with_me, ...s.shared_by_me].map((t) => t.task_id));
  check(sharedIds.length > 0 && sameIds(shared, sharedIds), `Shared lists ${shared}, not ${sharedIds}`);
  await page.getByRole('button', { name: 'Close' }).click();
  check(!(await page.locator('#task-list').isVisible()), 'the task list did not close');

  step('the team switcher shows a team with its members, then the user again');
  const teams = await getJson(token, '/api/v1/teams');
  check(teams.items.length > 0, 'the user has no team to switch to');
  const scope = page.getByLabel('Dashboard of');
  await scope.selectOption({ label: `Team: ${teams.items[0].name} (${teams.items[0].role})` });
  await waitForCards(page, await expectedCards(token, teams.items[0].id), WITHIN);
  check(!(await page.locator('#card-shared').isVisible()), 'a Shared card in a team view');
  const byMember = (await getJson(token, `/api/v1/dashboard/breakdown?team_id=${teams.items[0].id}`)).by_member;
  const rows = byMember.map((m) => `${m.total - m.completed}/${m.completed}`).sort();
  await page.waitForFunction((want) => {
    const shown = [...document.querySelectorAll('#members-rows tr')]
      .filter((tr) => !/a former member/.test(tr.textContent))
      .map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent).join('/'));
    return JSON.stringify(shown.sort()) === JSON.stringify(want);
  }, rows, { timeout: WITHIN }).catch(() => { throw new Error(`members do not show ${rows}`); });
  await checkAccessibility(page, 'light, team view');
  await scope.selectOption({ label: 'My tasks' });
  await waitForCards(page, await expectedCards(token), WITHIN);

  step('the activity chart toggles between 7 and 30 days');
  await page.getByRole('button', { name: '30 days' }).click();
  check(await page.locator('#activity-chart svg g.column').count() === 30, 'no 30 days in the chart');
  await page.getByRole('button', { name: '7 days' }).click();
  check(await page.locator('#activity-chart svg g.column').count() === 7, 'no 7 days in the chart');

  step('dark mode');
  await page.emulateMedia({ colorScheme: 'dark' });
  await checkAccessibility(page, 'dark, signed in');
  if (screenshot) await page.screenshot({ path: screenshot.replace(/\.png$/, '-dark.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

  step('sign-up from the page, at phone width');
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  // Sessions are kept per tab: this one starts signed out.
  await phone.goto(`${baseUrl}/dashboard`);
  await phone.emulateMedia({ colorScheme: 'dark' });
  await checkAccessibility(phone, 'sign-in forms, dark, phone width');
  await phone.emulateMedia({ colorScheme: 'light' });
  const newEmail = `new-${Date.now()}@example.com`;
  await phone.getByLabel('Display name').fill('New Person');
  await phone.locator('#signup-email').fill(newEmail);
  await phone.locator('#signup-password').fill('a long new password');
  await phone.getByRole('button', { name: 'Create account' }).click();
  await phone.waitForSelector('#connection[data-state="connected"]', { timeout: WITHIN });
  check((await phone.locator('#user-email').textContent()) === newEmail, 'the new account is not signed in');
  await phone.waitForSelector('#activity-chart svg', { timeout: WITHIN });
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  await checkAccessibility(phone, 'phone width');
  if (screenshot) await phone.screenshot({ path: screenshot.replace(/\.png$/, '-phone.png'), fullPage: true });

  step('sign out, then in with a pasted access token');
  await phone.getByRole('button', { name: 'Sign out' }).click();
  check(!(await phone.locator('#connection').isVisible()), 'a connection badge after signing out');
  await phone.getByText('Use an access token instead').click();
  await phone.getByLabel('Access token (JWT)').fill(token);
  await phone.getByRole('button', { name: 'Use this token' }).click();
  await phone.waitForSelector('#connection[data-state="connected"]', { timeout: WITHIN });
  check((await phone.locator('#user-email').textContent()) === email, 'the pasted token did not sign in');
  await phone.close();

  step('the server stops: the page says its numbers are stale');
  const statesBefore = await page.evaluate(() => window.connectionStates.length);
  say('READY_TO_STOP');
  const stopped = await stdinLines.next();
  check(!stopped.done, 'stdin closed before the server stopped');
  await page.waitForSelector('#stale', { state: 'visible', timeout: WITHIN });
  const staleText = await page.locator('#stale').textContent();
  check(/^Stale since \d{1,2}:\d{2}:\d{2}( [AP]M)? — reconnecting$/.test(staleText), `the stale banner says ${staleText}`);
  check(await page.locator('#dashboard.stale').count() === 1, 'the numbers are not dimmed');
  await checkAccessibility(page, 'light, stale');
  if (screenshot) await page.screenshot({ path: screenshot.replace(/\.png$/, '-stale.png') });
  say('STALE');
  const serving = await stdinLines.next();
  check(!serving.done, 'stdin closed before the server started again');
  const back = await page.waitForFunction((from) => {
    const states = window.connectionStates.slice(from);
    const down = states.indexOf('disconnected');
    return down >= 0 && states.indexOf('connected', down) > down;
  }, statesBefore, { timeout: 20_000 }).catch((err) => err);
  const seen = await page.evaluate((from) => window.connectionStates.slice(from), statesBefore);
  check(!(back instanceof Error), `the indicator went ${seen.join(' → ') || 'nowhere'}, not disconnected → connected`);
  step(`the indicator went ${seen.join(' → ')}`);
  check((await connection.textContent()).trim() === 'connected', 'not connected after the restart');
  check(!(await page.locator('#stale').isVisible()), 'still stale after reconnecting');
  const fresh = await signIn();
  const after = await waitForCards(page, await expectedCards(fresh), WITHIN);
  say(`CARDS ${JSON.stringify(after)}`);

  step('live again after the restart');
  await createTask(fresh, { title: 'made after the restart', status: 'completed' });
  await waitForCards(page, { ...after, total: after.total + 1, completed: after.completed + 1 }, WITHIN);

  check(problems.length === 0, problems.join('\n'));
}

/**
 * Short-lived access tokens: the page refreshes them, hands each to its open session and never
 * drops the live feed.
 */
async function runTokenRefresh(context) {
  const { page, problems } = await openDashboard(context, baseUrl);
  let sockets = 0;
  let closed = 0;
  const renewals = { sent: 0, authenticated: 0 };
  page.on('websocket', (ws) => {
    sockets += 1;
    ws.on('close', () => { closed += 1; });
    // The first `auth` of a socket authenticates it; every later one renews its token.
    let auths = 0;
    ws.on('framesent', (frame) => {
      if (/"type":"auth"/.test(String(frame.payload)) && ++auths > 1) renewals.sent += 1;
    });
    ws.on('framereceived', (frame) => {
      if (/"type":"authenticated"/.test(String(frame.payload))) renewals.authenticated += 1;
    });
  });
  const { expires_in: ttl } = await login();
  check(ttl <= 10, `this check wants access tokens of a few seconds, not ${ttl} s`);

  step(`sign in; access tokens live ${ttl} s`);
  await signInOnPage(page, email, password);
  const from = await page.evaluate(() => window.connectionStates.length);

  step('two access token lifetimes go by');
  await new Promise((resolve) => setTimeout(resolve, 2 * ttl * 1000));
  const states = await page.evaluate((start) => window.connectionStates.slice(start), from);
  check(!states.includes('disconnected'), `the feed dropped: ${states.join(' → ')}`);
  check(await page.locator('#connection').getAttribute('data-state') === 'connected', 'not connected');
  check(sockets === 1 && closed === 0, `${sockets} sockets, ${closed} closed: a renewal cost a reconnect`);
  // The last renewal may still be on its way.
  check(renewals.authenticated >= 2 && renewals.authenticated >= renewals.sent - 1,
    `${renewals.sent} renewed tokens sent, ${renewals.authenticated} answered authenticated`);
  step(`one socket, ${renewals.sent} tokens renewed on it, and always connected`);

  step('still live');
  const token = await signIn();
  const before = await waitForCards(page, await expectedCards(token), WITHIN);
  await createTask(token, { title: 'made with a refreshed token' });
  await waitForCards(page, { ...before, total: before.total + 1, pending: before.pending + 1 }, WITHIN);
  check(problems.length === 0, problems.join('\n'));
}

const userDataDir = mkdtempSync(join(tmpdir(), 'taskpulse-chromium-'));
// The history flows run the browser in a zone whose day is not UTC's now.
const zone = ['trends', 'transfer'].includes(mode) ? zoneAwayFromUtc() : null;
let context;
try {
  // A fresh profile each run; playwright passes it as --user-data-dir.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    timezoneId: zone?.tz,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const env = { context, baseUrl, email, password, zone, screenshot };
  const flows = { restart: run, 'token-refresh': runTokenRefresh, trends: runTrends, transfer: runTransfer, tokens: runTokens,
    notifications: runNotifications };
  await flows[mode](mode === 'restart' || mode === 'token-refresh' ? context : env);
  say('PASS');
} catch (err) {
  console.error(`dashboard.mjs: FAILED: ${err.stack || err}`);
  process.exitCode = 1;
} finally {
  await context?.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
  stdinLines.return?.();
  process.stdin.destroy();
}
