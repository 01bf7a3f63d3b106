// The live dashboard page: signs in, follows the chosen scope over the WebSocket and keeps
// every panel current. session.js holds the tokens, live.js the socket, view.js the DOM.

import { ApiError, Session } from './session.js';
import { LiveFeed } from './live.js';
import * as view from './view.js';

// Deltas carry the statistics only: priorities and activity are re-read, at most this often.
const DETAIL_REFRESH_MS = 300;
// `overdue` moves with the clock, not only with events.
const CLOCK_REFRESH_MS = 60_000;
// Before retrying a topic the server reported an error for.
const RESUBSCRIBE_AFTER_MS = 1_000;

const $ = (id) => document.getElementById(id);
const session = new Session();
const feed = new LiveFeed(session);

let stats = null; // the statistics shown, for the current topic
let activityDays = [];
let range = 7;
let detailTimer = null;
let clockTimer = null;

/** `?team_id=` for REST calls about the current topic. */
function scopeQuery(topic = feed.topic) {
  return topic.startsWith('team:') ? `team_id=${encodeURIComponent(topic.slice(5))}` : '';
}

async function enterDashboard() {
  view.showSignedIn(true);
  view.showSignInError(null);
  view.clearNumbers();
  feed.start('user');
  clearInterval(clockTimer);
  clockTimer = setInterval(refreshClock, CLOCK_REFRESH_MS);
  try {
    const me = await session.request('/api/v1/me');
    view.showUser(me.email);
    await loadTeams();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) view.showNotice(`Could not load your account: ${err.message}`);
  }
}

function leaveDashboard(message) {
  feed.stop();
  clearInterval(clockTimer);
  clearTimeout(detailTimer);
  stats = null;
  view.showSignedIn(false);
  view.showNotice(null);
  view.showSignInError(message);
}

/** GET /api/v1/teams, every page. */
async function loadTeams() {
  const teams = [];
  let cursor = null;
  do {
    const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await session.request(`/api/v1/teams?limit=200${query}`);
    teams.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  view.showTeams(teams, feed.topic);
}

function applySnapshot(message) {
  stats = message.stats;
  activityDays = message.activity.days;
  view.showNotice(null);
  view.showStatistics(stats);
  view.showBreakdown(message.breakdown);
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
  const topic = feed.topic;
  const query = scopeQuery(topic);
  try {
    const [breakdown, activity] = await Promise.all([
      session.request(`/api/v1/dashboard/breakdown?${query}`),
      session.request(`/api/v1/dashboard/activity?days=30${query ? `&${query}` : ''}`),
    ]);
    if (topic !== feed.topic) return;
    view.showBreakdown(breakdown);
    activityDays = activity.days;
    view.showActivity(activityDays, range);
  } catch {
    // The next delta or snapshot tries again.
  }
}

/** Re-reads the statistics at the same version: only the clock (overdue) can have moved. */
async function refreshClock() {
  if (!stats || feed.state !== 'connected') return;
  const topic = feed.topic;
  try {
    const fresh = await session.request(`/api/v1/dashboard/statistics?${scopeQuery(topic)}`);
    if (topic === feed.topic && stats && fresh.version === stats.version) {
      stats = fresh;
      view.showStatistics(stats);
    }
  } catch {
    // Next minute.
  }
}

function onProblem(message) {
  if (message.type === 'unsubscribed' || message.code === 'forbidden') {
    const why = message.type === 'unsubscribed'
      ? 'You are no longer a member of that team.'
      : 'You may not see that team.';
    view.showNotice(`${why} Showing your own tasks.`);
    switchTopic('user');
    loadTeams().catch(() => {});
    return;
  }
  // Anything else (unavailable, a message the server did not understand): start afresh.
  setTimeout(() => feed.resubscribe(), RESUBSCRIBE_AFTER_MS);
}

function switchTopic(topic) {
  stats = null;
  view.clearNumbers();
  view.showTopic(topic);
  feed.switchTo(topic);
}

async function signIn(action) {
  view.setSignInBusy(true);
  view.showSignInError(null);
  try {
    await action();
    await enterDashboard();
  } catch (err) {
    view.showSignInError(err instanceof ApiError ? err.message : `Cannot reach the server: ${err.message}`);
  } finally {
    view.setSignInBusy(false);
  }
}

feed.addEventListener('state', (event) => view.showConnection(event.detail));
feed.addEventListener('snapshot', (event) => applySnapshot(event.detail));
feed.addEventListener('delta', (event) => applyDelta(event.detail));
feed.addEventListener('problem', (event) => onProblem(event.detail));
feed.addEventListener('signedout', () => leaveDashboard('Your session has ended: please sign in again.'));
session.addEventListener('signedout', () => leaveDashboard('Your session has ended: please sign in again.'));

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const email = $('login-email').value.trim();
  const password = $('login-password').value;
  signIn(() => session.login(email, password)).then(() => { $('login-password').value = ''; });
});

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token-input').value.trim();
  signIn(() => session.useToken(token)).then(() => { $('token-input').value = ''; });
});

$('signout').addEventListener('click', () => {
  leaveDashboard(null);
  session.logout();
});

$('scope-select').addEventListener('change', (event) => switchTopic(event.target.value));

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

view.showConnection(feed.state);
if (session.restore()) {
  session.freshToken().then((token) => (token ? enterDashboard() : leaveDashboard(null)));
}
