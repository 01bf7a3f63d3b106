// The live dashboard page: signs in, follows the chosen scope, its trends and its activity feed
// over the WebSocket, in the browser's own time zone, and keeps every panel current. The REST
// and live clients are the @taskpulse/client package (clients/js, served under
// /dashboard/client/); view.js, trends-view.js, feed-view.js, task-list.js, transfer-view.js,
// tokens-view.js and notifications-view.js (the bell) draw.

import { Client, LiveClient, ProblemError } from './client/index.js';
import { FeedPanel } from './feed-view.js';
import { Bell } from './notifications-view.js';
import { TaskList } from './task-list.js';
import { TokensPanel } from './tokens-view.js';
import { TransferPanel } from './transfer-view.js';
import { TrendsView } from './trends-view.js';
import * as view from './view.js';

// Deltas carry the statistics only: priorities, members and activity are re-read, at most
// this often.
const DETAIL_REFRESH_MS = 300;
// `overdue` moves with the clock, not only with events.
const CLOCK_REFRESH_MS = 60_000;
const FEED_HISTORY = 20;
// Days and weeks are the reader's: activity and trends are asked in the browser's zone (UTC
// if the server does not know its name).
let zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

const $ = (id) => document.getElementById(id);
const client = new Client({ storage: globalThis.sessionStorage ?? null });
const live = new LiveClient(client);
const taskList = new TaskList(client);
const feedPanel = new FeedPanel($('feed-list'), $('feed-empty'), async (id) => (await client.getTask(id)).title);
const tokensPanel = new TokensPanel(client);
const bell = new Bell(client);
// The caller's notifications: followed whatever dashboard is shown.
const NOTIFICATIONS = 'notifications';
const names = new Map(); // user id -> display name, for the members table and the feed
// Another interval: the trends topic starts over with it (a fresh snapshot).
const trendsView = new TrendsView(zone, (interval) => live.subscribe(trendsTopicOf(topic), { tz: zone, interval }));

let topic = 'user';
let stats = null; // the statistics shown, for the current topic
let activityDays = [];
let breakdown = null;
let range = 7;
let detailTimer = null;
let timers = [];

const teamOf = (t) => (t.startsWith('team:') ? t.slice(5) : null);
const feedTopicOf = (t) => `feed:${t}`;
const trendsTopicOf = (t) => `trends:${t}`;
const scopeQuery = (t) => (teamOf(t) ? { team_id: teamOf(t) } : {});
const transfer = new TransferPanel(client, () => ({
  teamId: teamOf(topic),
  name: $('scope-select').selectedOptions[0]?.textContent ?? 'My tasks',
}));

/** Follows `next` (`user` or `team:<id>`), its trends and its feed, instead of what was followed. */
function follow(next) {
  for (const old of live.topics) if (old !== NOTIFICATIONS) live.unsubscribe(old);
  topic = next;
  stats = null;
  breakdown = null;
  view.clearNumbers();
  view.showTopic(next);
  taskList.close();
  feedPanel.reset();
  trendsView.clear();
  transfer.reset();
  view.setText('feed-empty', 'Nothing yet: changes appear here as they happen.');
  live.subscribe(next, { tz: zone });
  live.subscribe(trendsTopicOf(next), { tz: zone, interval: trendsView.interval });
  live.subscribe(feedTopicOf(next));
  if (teamOf(next)) loadMembers(next).catch(() => {});
}

/** `wanted` if the server knows that zone, else UTC: asked once, before anything is followed. */
async function knownZone(wanted) {
  if (wanted === 'UTC') return wanted;
  try {
    await client.activity({ days: 1, tz: wanted });
    return wanted;
  } catch (err) {
    return err instanceof ProblemError && err.status === 422 ? 'UTC' : wanted;
  }
}

async function enterDashboard() {
  view.showSignedIn(true);
  zone = await knownZone(zone);
  view.showZone(zone);
  trendsView.setZone(zone);
  view.showSignInError(null);
  follow('user');
  live.subscribe(NOTIFICATIONS);
  live.start();
  timers.forEach(clearInterval);
  timers = [setInterval(refreshClock, CLOCK_REFRESH_MS), setInterval(() => view.showUpdated(), 1000)];
  try {
    const me = await client.me();
    view.showUser(me.email);
    names.set(me.id, me.display_name);
    feedPanel.setNames(names);
    trendsView.setNames(names);
    await Promise.all([loadTeams(), tokensPanel.load()]);
  } catch (err) {
    if (!(err instanceof ProblemError && err.status === 401)) view.showNotice(`Could not load your account: ${err.message}`);
  }
}

function leaveDashboard(message) {
  live.stop();
  timers.forEach(clearInterval);
  clearTimeout(detailTimer);
  stats = null;
  tokensPanel.reset();
  bell.reset();
  view.showSignedIn(false);
  view.showNotice(null);
  view.showSignInError(message);
}

async function loadTeams() {
  const teams = [];
  for await (const team of client.all(client.listTeams, { limit: 200 })) teams.push(team);
  view.showTeams(teams, topic);
}

/** The team's members, for names in the members table and the feed. */
async function loadMembers(forTopic) {
  const team = await client.getTeam(teamOf(forTopic));
  for (const member of team.members) names.set(member.user_id, member.display_name);
  feedPanel.setNames(names);
  trendsView.setNames(names);
  if (forTopic === topic && breakdown) view.showBreakdown(breakdown, names);
}

function applySnapshot(message) {
  stats = message.stats;
  breakdown = message.breakdown;
  activityDays = message.activity.days;
  view.showNotice(null);
  view.showStatistics(stats);
  view.showBreakdown(breakdown, names);
  view.showActivity(activityDays, range);
}

function applyDelta(message) {
  stats = message.stats;
  view.showStatistics(stats);
  clearTimeout(detailTimer);
  detailTimer = setTimeout(refreshDetails, DETAIL_REFRESH_MS);
}

/** Re-reads the breakdown and the activity of the current topic over REST. */
async function refreshDetails() {
  const shown = topic;
  try {
    const [fresh, activity] = await Promise.all([
      client.breakdown(scopeQuery(shown)),
      client.activity({ ...scopeQuery(shown), days: 30, tz: zone }),
    ]);
    if (shown !== topic) return;
    breakdown = fresh;
    view.showBreakdown(breakdown, names);
    activityDays = activity.days;
    view.showActivity(activityDays, range);
    taskList.refresh();
  } catch {
    // The next delta or snapshot tries again.
  }
}

/** Re-reads the statistics at the same version: only the clock (overdue) can have moved. */
async function refreshClock() {
  if (!stats || live.status !== 'connected') return;
  const shown = topic;
  try {
    const fresh = await client.statistics(scopeQuery(shown));
    if (shown === topic && stats && fresh.version === stats.version) {
      stats = fresh;
      view.showStatistics(stats);
    }
  } catch {
    // Next minute.
  }
}

/** The feed is live: the entries from before it come from the audit log, where readable. */
async function loadFeedHistory(feedTopic) {
  try {
    const page = await client.auditLogs({ ...scopeQuery(topic), limit: FEED_HISTORY });
    if (feedTopic === feedTopicOf(topic)) feedPanel.add(page.items);
  } catch {
    // Only a team's admins read its audit log: the others see entries from now on.
  }
}

function onTopicError(message) {
  // Without a topic: a renewed token the server refused; the client connects again by itself.
  if (message.topic === undefined) return;
  if (message.topic === trendsTopicOf(topic)) {
    if (message.code !== 'unavailable') trendsView.showStatus(`Trends are not available (${message.code}).`);
    return;
  }
  if (message.topic === feedTopicOf(topic)) {
    view.setText('feed-empty', message.code === 'invalid_topic'
      ? 'This server has no live activity feed.'
      : `The live activity feed is not available (${message.code}).`);
    return;
  }
  if (message.topic !== topic || message.code === 'unavailable') return; // retried by the client
  view.showNotice(`You may not see that team (${message.code}). Showing your own tasks.`);
  follow('user');
  loadTeams().catch(() => {});
}

function onRevoked(message) {
  if (message.topic !== topic) return;
  view.showNotice('You are no longer a member of that team. Showing your own tasks.');
  follow('user');
  loadTeams().catch(() => {});
}

async function signIn(action) {
  view.setSignInBusy(true);
  view.showSignInError(null);
  try {
    await action();
    await enterDashboard();
    return true;
  } catch (err) {
    view.showSignInError(err instanceof ProblemError ? err.message : `Something went wrong: ${err.message}`);
    return false;
  } finally {
    view.setSignInBusy(false);
  }
}

live.addEventListener('status', ({ detail }) => view.showConnection(detail.status, detail.staleSince));
live.addEventListener('snapshot', ({ detail }) => {
  if (detail.topic === topic) applySnapshot(detail);
  else if (detail.topic === trendsTopicOf(topic)) trendsView.show(detail.trends);
});
live.addEventListener('delta', ({ detail }) => {
  if (detail.topic === topic) applyDelta(detail);
  else if (detail.topic === trendsTopicOf(topic)) trendsView.show(detail.trends);
});
// A feed has started (a dashboard topic's resume also ends with `subscribed`: nothing to do).
live.addEventListener('subscribed', ({ detail }) => {
  if (detail.topic === feedTopicOf(topic)) loadFeedHistory(detail.topic);
  else if (detail.topic === NOTIFICATIONS) bell.load();
});
live.addEventListener('notification', ({ detail }) => bell.add(detail.notification));
live.addEventListener('feed', ({ detail }) => {
  if (detail.topic === feedTopicOf(topic)) feedPanel.add([detail.entry]);
});
live.addEventListener('error', ({ detail }) => onTopicError(detail));
live.addEventListener('revoked', ({ detail }) => onRevoked(detail));
live.addEventListener('signedout', () => leaveDashboard('Your session has ended: please sign in again.'));
client.tokens.addEventListener('signedout', () => leaveDashboard('Your session has ended: please sign in again.'));

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = $('login-email').value.trim();
  const password = $('login-password').value;
  if (await signIn(() => client.login({ email, password }))) $('login-password').value = '';
});

$('signup-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = {
    display_name: $('signup-name').value.trim(),
    email: $('signup-email').value.trim(),
    password: $('signup-password').value,
  };
  if (await signIn(() => client.register(body))) $('signup-password').value = '';
});

$('token-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = $('token-input').value.trim();
  if (await signIn(() => client.useAccessToken(token))) $('token-input').value = '';
});

$('signout').addEventListener('click', () => {
  leaveDashboard(null);
  client.logout();
});

$('scope-select').addEventListener('change', (event) => follow(event.target.value));

for (const card of document.querySelectorAll('.card')) {
  card.addEventListener('click', () => {
    if (taskList.kind === card.dataset.list) taskList.close();
    else taskList.open(card.dataset.list, topic, { focus: true });
  });
}

for (const days of [7, 30]) {
  $(`range-${days}`).addEventListener('click', () => {
    range = days;
    view.showActivity(activityDays, range);
  });
}

// The chart is drawn at its container's width.
let chartWidth = 0;
new ResizeObserver(([entry]) => {
  const width = Math.round(entry.contentRect.width);
  if (width === chartWidth) return;
  chartWidth = width;
  if (activityDays.length) view.showActivity(activityDays, range);
}).observe($('activity-chart'));

if (client.tokens.restore()) {
  client.tokens.fresh().then((token) => (token ? enterDashboard() : leaveDashboard(null)));
}
