// What the page shows: cards, breakdown bars, the activity chart and the connection state.
// Rendering only; the numbers come from app.js.

import { drawActivity } from './chart.js';

const $ = (id) => document.getElementById(id);
const count = new Intl.NumberFormat();
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0 });

const STATUSES = [['pending', 'Pending'], ['in_progress', 'In progress'], ['completed', 'Completed']];
const PRIORITIES = [['low', 'Low'], ['medium', 'Medium'], ['high', 'High'], ['urgent', 'Urgent']];

function setText(id, text) {
  const node = $(id);
  // Only real changes, so screen readers announce what moved and nothing else.
  if (node.textContent !== text) node.textContent = text;
}

/** Shows the sign-in form or the dashboard. */
export function showSignedIn(signedIn) {
  $('signin').hidden = signedIn;
  $('dashboard').hidden = !signedIn;
}

export function showSignInError(message) {
  setText('signin-error', message ?? '');
}

export function setSignInBusy(busy) {
  for (const id of ['login-submit', 'token-submit']) $(id).disabled = busy;
}

export function showUser(email) {
  setText('user-email', email);
}

/** A short message above the cards (null hides it). */
export function showNotice(message) {
  const node = $('notice');
  node.hidden = !message;
  setText('notice', message ?? '');
}

/** `connected` | `connecting` | `disconnected`, as text and as `data-state`. */
export function showConnection(state) {
  $('connection').dataset.state = state;
  setText('connection-text', state);
}

/** Fills the team switcher: `user` first, then one option per team. */
export function showTeams(teams, selected) {
  const select = $('scope-select');
  const options = [new Option('My tasks', 'user')];
  for (const team of teams) {
    options.push(new Option(`Team: ${team.name} (${team.role})`, `team:${team.id}`));
  }
  select.replaceChildren(...options);
  select.value = options.some((o) => o.value === selected) ? selected : 'user';
}

export function showTopic(topic) {
  $('scope-select').value = topic;
}

/** Blanks every number while a new scope loads. */
export function clearNumbers() {
  for (const id of ['stat-total', 'stat-pending', 'stat-in-progress', 'stat-completed',
    'stat-overdue', 'stat-shared', 'stat-shared-with-me', 'stat-shared-by-me',
    'stat-completion-rate', 'stat-version', 'stat-as-of']) {
    setText(id, '–');
  }
  $('breakdown-status').replaceChildren();
  $('breakdown-priority').replaceChildren();
  $('activity-chart').replaceChildren();
}

/** The statistics object of a snapshot, a delta or GET /dashboard/statistics. */
export function showStatistics(stats) {
  setText('stat-total', count.format(stats.total));
  setText('stat-pending', count.format(stats.pending));
  setText('stat-in-progress', count.format(stats.in_progress));
  setText('stat-completed', count.format(stats.completed));
  setText('stat-overdue', count.format(stats.overdue));
  setText('stat-completion-rate', percent.format(stats.completion_rate ?? 0));
  const personal = stats.shared_with_me !== undefined;
  $('card-shared').classList.toggle('not-applicable', !personal);
  if (personal) {
    setText('stat-shared', count.format(stats.shared_with_me + stats.shared_by_me));
    setText('stat-shared-with-me', count.format(stats.shared_with_me));
    setText('stat-shared-by-me', count.format(stats.shared_by_me));
  } else {
    // Sharing is personal: a team scope has no such counters.
    for (const id of ['stat-shared', 'stat-shared-with-me', 'stat-shared-by-me']) setText(id, '–');
  }
  setText('stat-version', String(stats.version));
  const asOf = $('stat-as-of');
  asOf.dateTime = stats.as_of;
  setText('stat-as-of', new Date(stats.as_of).toLocaleString());
  // The status bars follow the statistics at once; priorities wait for the breakdown.
  showBars('breakdown-status', STATUSES, stats);
}

/** The `by_priority` of a breakdown (`by_status` comes with the statistics). */
export function showBreakdown(breakdown) {
  showBars('breakdown-priority', PRIORITIES, breakdown.by_priority);
}

function showBars(listId, rows, values) {
  const list = $(listId);
  const total = rows.reduce((sum, [key]) => sum + (values[key] ?? 0), 0);
  const items = rows.map(([key, label]) => {
    const value = values[key] ?? 0;
    const share = total > 0 ? value / total : 0;
    const item = document.createElement('li');
    item.className = `bar-row ${key.replace('_', '-')}`;
    item.id = `${listId}-${key.replace('_', '-')}`;
    const name = document.createElement('span');
    name.className = 'bar-label';
    name.textContent = label;
    const track = document.createElement('span');
    track.className = 'bar-track';
    track.setAttribute('aria-hidden', 'true');
    const fill = document.createElement('span');
    fill.className = 'bar-fill';
    fill.style.width = `${(share * 100).toFixed(1)}%`;
    track.append(fill);
    const number = document.createElement('span');
    number.className = 'bar-value';
    number.textContent = count.format(value);
    item.append(name, track, number);
    return item;
  });
  list.replaceChildren(...items);
}

/** The activity days (oldest first); the chart shows the last `range` of them. */
export function showActivity(days, range) {
  drawActivity($('activity-chart'), days.slice(-range));
  $('range-7').setAttribute('aria-pressed', String(range === 7));
  $('range-30').setAttribute('aria-pressed', String(range === 30));
}
