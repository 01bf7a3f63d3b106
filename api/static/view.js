// What the page shows: cards, breakdown bars, members, the activity chart and the connection
// state. Rendering only; the numbers come from app.js.

import { drawActivity } from './chart.js';

const $ = (id) => document.getElementById(id);
const count = new Intl.NumberFormat();
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0 });
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

const STATUSES = [['pending', 'Pending'], ['in_progress', 'In progress'], ['completed', 'Completed']];
const PRIORITIES = [['low', 'Low'], ['medium', 'Medium'], ['high', 'High'], ['urgent', 'Urgent']];
const NUMBERS = ['stat-total', 'stat-pending', 'stat-in-progress', 'stat-completed', 'stat-overdue',
  'stat-shared', 'stat-shared-with-me', 'stat-shared-by-me', 'stat-completion-rate'];

export function setText(id, text) {
  const node = $(id);
  // Only real changes, so screen readers announce what moved and nothing else.
  if (node.textContent !== text) node.textContent = text;
}

/** `10:42:07` in the reader's locale. */
export const timeOfDay = (date) => clock.format(date);

/** Shows the sign-in forms or the dashboard (and its connection indicator). */
export function showSignedIn(signedIn) {
  $('signin').hidden = signedIn;
  $('dashboard').hidden = !signedIn;
  $('connection').hidden = !signedIn;
}

export function showSignInError(message) {
  setText('signin-error', message ?? '');
}

export function setSignInBusy(busy) {
  for (const id of ['login-submit', 'token-submit', 'signup-submit']) $(id).disabled = busy;
}

export function showUser(email) {
  setText('user-email', email);
}

/** A short message above the cards (null hides it). */
export function showNotice(message) {
  $('notice').hidden = !message;
  setText('notice', message ?? '');
}

/**
 * `connected` | `connecting` | `disconnected` on the indicator; while the numbers are not live
 * (`staleSince` set) a banner says since when, and the numbers are dimmed.
 */
export function showConnection(status, staleSince) {
  $('connection').dataset.state = status;
  setText('connection-text', status);
  const stale = staleSince !== null && status !== 'connected';
  $('dashboard').classList.toggle('stale', stale);
  $('stale').hidden = !stale;
  setText('stale', stale ? `Stale since ${timeOfDay(staleSince)} — reconnecting` : '');
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

/** The scope shown: the switcher, and the Shared card (personal) or the members (team). */
export function showTopic(topic) {
  $('scope-select').value = topic;
  const team = topic.startsWith('team:');
  $('card-shared').hidden = team;
  $('members').hidden = !team;
}

/** Blanks every number while a new scope loads. */
export function clearNumbers() {
  for (const id of NUMBERS) setText(id, '–');
  setText('updated', '–');
  $('updated').removeAttribute('datetime');
  for (const id of ['breakdown-status', 'breakdown-priority', 'members-rows', 'activity-chart']) {
    $(id).replaceChildren();
  }
}

/** The statistics object of a snapshot, a delta or GET /dashboard/statistics. */
export function showStatistics(stats) {
  setText('stat-total', count.format(stats.total));
  setText('stat-pending', count.format(stats.pending));
  setText('stat-in-progress', count.format(stats.in_progress));
  setText('stat-completed', count.format(stats.completed));
  setText('stat-overdue', count.format(stats.overdue));
  setText('stat-completion-rate', percent.format(stats.completion_rate ?? 0));
  if (stats.shared_with_me !== undefined) {
    setText('stat-shared', count.format(stats.shared_with_me + stats.shared_by_me));
    setText('stat-shared-with-me', count.format(stats.shared_with_me));
    setText('stat-shared-by-me', count.format(stats.shared_by_me));
  }
  $('updated').dateTime = stats.as_of;
  $('updated').title = new Date(stats.as_of).toLocaleString();
  showUpdated();
  // The status bars follow the statistics at once; priorities wait for the breakdown.
  showBars('breakdown-status', STATUSES, stats);
}

/** `3 s ago`, from the time of the last change; called every second. */
export function showUpdated(now = Date.now()) {
  const asOf = $('updated').dateTime;
  if (!asOf) return;
  const seconds = Math.max(0, Math.round((now - Date.parse(asOf)) / 1000));
  let text;
  if (seconds < 1) text = 'just now';
  else if (seconds < 60) text = `${seconds} s ago`;
  else if (seconds < 3600) text = `${Math.floor(seconds / 60)} min ago`;
  else if (seconds < 86_400) text = `${Math.floor(seconds / 3600)} h ago`;
  else text = `on ${new Date(asOf).toLocaleDateString()}`;
  setText('updated', text);
}

/** The `by_priority` of a breakdown, and its `by_member` (a team's) with the members' names. */
export function showBreakdown(breakdown, names) {
  showBars('breakdown-priority', PRIORITIES, breakdown.by_priority);
  if (breakdown.by_member) showMembers(breakdown.by_member, names);
}

/** Who has how many open and completed tasks, most open first. */
function showMembers(byMember, names) {
  const rows = [...byMember]
    .sort((a, b) => (b.total - b.completed) - (a.total - a.completed) || b.total - a.total)
    .map((member) => {
      const row = document.createElement('tr');
      row.dataset.userId = member.user_id;
      const name = document.createElement('th');
      name.scope = 'row';
      name.textContent = names.get(member.user_id) ?? 'a former member';
      const open = document.createElement('td');
      open.textContent = count.format(member.total - member.completed);
      const completed = document.createElement('td');
      completed.textContent = count.format(member.completed);
      row.append(name, open, completed);
      return row;
    });
  $('members-rows').replaceChildren(...rows);
}

function showBars(listId, rows, values) {
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
  $(listId).replaceChildren(...items);
}

/** The activity days (oldest first); the chart shows the last `range` of them. */
export function showActivity(days, range) {
  drawActivity($('activity-chart'), days.slice(-range));
  $('range-7').setAttribute('aria-pressed', String(range === 7));
  $('range-30').setAttribute('aria-pressed', String(range === 30));
}

/** Says in which zone the days are counted. */
export function showZone(zone) {
  setText('activity-zone', `Days in your time zone (${zone}).`);
}
