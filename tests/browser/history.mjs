// The history flows of the dashboard page, run by dashboard.mjs with the browser in a time zone
// whose calendar day is not UTC's at the time of the run (so a page that counted UTC days
// would show the wrong ones):
//
// - `trends`: the activity days and the Trends view's weeks are the browser's; the Trends view
//   (table, charts) equals GET /dashboard/trends in that zone and follows writes live, for the
//   user and for a team, whose completions by member move too; axe-core in light and dark mode;
//   and UTC when the server does not know the browser's zone.
// - `transfer`: Export CSV downloads the tasks shown; Import sends a .csv as text/csv and an
//   .ndjson as application/x-ndjson; imported past tasks land in the browser's week, not
//   UTC's; a refused file shows its errors line by line; axe-core with them shown.

import { readFileSync } from 'node:fs';
import {
  WITHIN, cardsOverRest, check, checkAccessibility, openDashboard, readCards, rest, say, signInOnPage, step,
  waitForCards, waitUntil,
} from './helpers.mjs';

/** The page's errors, but for the 422 answers these flows provoke (Chromium logs each). */
const unexpected = (problems) => problems.filter((problem) => !/status of 422/.test(problem));

/** Fixed offsets (neither zone has daylight saving time), for timestamps written by hand. */
const OFFSETS = { 'Pacific/Kiritimati': '+14:00', 'Pacific/Pago_Pago': '-11:00' };

/** `YYYY-MM-DD` of `at` in the IANA zone `tz`. */
export function dateIn(tz, at = new Date()) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/**
 * A zone whose calendar day is not UTC's now: Kiritimati (UTC+14) from 11:00 UTC on, Pago
 * Pago (UTC−11) before; with its `today` and UTC's.
 */
export function zoneAwayFromUtc(at = new Date()) {
  const tz = at.getUTCHours() >= 11 ? 'Pacific/Kiritimati' : 'Pacific/Pago_Pago';
  return { tz, today: dateIn(tz, at), utcToday: dateIn('UTC', at) };
}

function addDays(date, days) {
  const at = new Date(`${date}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
}

/** The Monday of the ISO week of `date`. */
const mondayOf = (date) => addDays(date, -((new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7));

/** The rows of the Trends table: the week's start and its numbers as shown. */
function readTrendsTable(page) {
  return page.evaluate(() => [...document.querySelectorAll('#trends-rows tr')].map((tr) => ({
    start: tr.dataset.start,
    ...Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.dataset.key, td.textContent])),
  })));
}

/** What the table should show for REST's trends (counts; whether a time is there). */
function tableOf(trends) {
  return trends.buckets.map((b) => ({
    start: b.start,
    counts: [b.created, b.completed, b.open_at_end - b.in_progress_at_end, b.in_progress_at_end],
    timed: [b.lead_time_hours !== null, b.cycle_time_hours !== null],
  }));
}

function tableShown(rows) {
  const number = (text) => Number(String(text).replace(/[^\d]/g, ''));
  return rows.map((r) => ({
    start: r.start,
    counts: [r.created, r.completed, r.pending, r.in_progress].map(number),
    timed: [r.lead_p50 !== '–', r.cycle_p50 !== '–'],
  }));
}

/**
 * Waits until the Trends table shows what REST answers for `query` (`&team_id=…`) and
 * `interval` in the browser's zone.
 */
async function waitForTrends(page, getJson, token, tz, query = '', interval = 'week') {
  const rest = tableOf(await getJson(token, `/api/v1/dashboard/trends?tz=${encodeURIComponent(tz)}&interval=${interval}${query}`));
  await waitUntil(async () => tableShown(await readTrendsTable(page)),
    (shown) => JSON.stringify(shown) === JSON.stringify(rest),
    (shown) => `the Trends table shows ${JSON.stringify(shown)}, REST answers ${JSON.stringify(rest)}`);
  return rest;
}

export async function runTrends({ context, baseUrl, email, password, zone, screenshot }) {
  const { getJson, send, signIn, createTask } = rest(baseUrl, email, password);
  const { page, problems } = await openDashboard(context, baseUrl);
  say(`ZONE ${zone.tz} ${zone.today} ${zone.utcToday}`);
  check(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone) === zone.tz,
    'the browser does not run in the zone asked for');

  step(`sign in, the browser in ${zone.tz}: ${zone.today} there, ${zone.utcToday} in UTC`);
  await signInOnPage(page, email, password);
  const token = await signIn();
  check((await page.locator('#trends-zone').textContent()).includes(zone.tz), 'the Trends view does not name the zone');
  check((await page.locator('#activity-zone').textContent()).includes(zone.tz), 'the activity does not name the zone');

  step('the activity chart shows the days of the browser’s zone');
  const activity = await getJson(token, `/api/v1/dashboard/activity?days=7&tz=${encodeURIComponent(zone.tz)}`);
  const wanted = activity.days.map((d) => `${d.date}: ${d.created} created, ${d.completed} completed`);
  check(activity.days.at(-1).date === zone.today && activity.days.at(-1).created > 0, `REST activity: ${JSON.stringify(activity.days)}`);
  await waitUntil(() => page.evaluate(() => [...document.querySelectorAll('#activity-chart g.column > title')].map((t) => t.textContent)),
    (shown) => JSON.stringify(shown) === JSON.stringify(wanted),
    (shown) => `the activity chart shows ${JSON.stringify(shown)}, not ${JSON.stringify(wanted)}`);

  step('the Trends view shows the weeks of the browser’s zone, as REST answers them');
  const weeks = await waitForTrends(page, getJson, token, zone.tz);
  check(weeks.length === 12 && weeks.at(-1).start === mondayOf(zone.today), `weeks ${weeks.map((w) => w.start)}`);
  const charts = await page.evaluate(() => ({
    bars: [...document.querySelectorAll('#trends-throughput g.column')].map((g) => g.dataset.key),
    areas: document.querySelectorAll('#trends-flow polygon.area').length,
    times: document.querySelectorAll('#trends-times circle.lead_p50').length,
  }));
  check(JSON.stringify(charts.bars) === JSON.stringify(weeks.map((w) => w.start)), `throughput bars ${charts.bars}`);
  check(charts.areas === 3, `${charts.areas} areas in the cumulative flow`);
  check(charts.times === weeks.filter((w) => w.timed[0]).length, `${charts.times} lead time points`);

  step('by day and by month, then by week again');
  for (const [label, interval] of [['Days', 'day'], ['Months', 'month'], ['Weeks', 'week']]) {
    const button = page.getByRole('group', { name: 'Trends by' }).getByRole('button', { name: label, exact: true });
    await button.click();
    const buckets = await waitForTrends(page, getJson, token, zone.tz, '', interval);
    const current = { day: zone.today, month: `${zone.today.slice(0, 8)}01`, week: mondayOf(zone.today) }[interval];
    check(buckets.length === 12 && buckets.at(-1).start === current, `by ${interval}: ${buckets.map((b) => b.start)}`);
    check(await button.getAttribute('aria-pressed') === 'true', `${label} is not pressed`);
  }

  step('the Trends view follows writes live');
  const navigations = [];
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations.push(frame.url()); });
  const before = weeks.at(-1).counts;
  const task = await createTask(token, { title: 'made while watching the trends' });
  let now = await waitForTrends(page, getJson, token, zone.tz);
  check(now.at(-1).counts[0] === before[0] + 1, `created this week: ${now.at(-1).counts[0]}, not ${before[0] + 1}`);
  await send(token, 'PATCH', `/api/v1/tasks/${task.id}`, { status: 'in_progress' });
  await send(token, 'PATCH', `/api/v1/tasks/${task.id}`, { status: 'completed' });
  now = await waitForTrends(page, getJson, token, zone.tz);
  check(now.at(-1).counts[1] === before[1] + 1, `completed this week: ${now.at(-1).counts[1]}, not ${before[1] + 1}`);
  check(now.at(-1).timed.every(Boolean), 'no lead and cycle time for this week');
  check(/lead time p50 .+ cycle time p50/.test(await page.locator('#trends-summary').textContent()), 'no lead and cycle time summary');
  check(navigations.length === 0, `the page navigated: ${navigations}`);

  step('a team’s trends, live too');
  const teams = await getJson(token, '/api/v1/teams');
  const team = teams.items[0];
  await page.getByLabel('Dashboard of').selectOption({ label: `Team: ${team.name} (${team.role})` });
  const teamWeeks = await waitForTrends(page, getJson, token, zone.tz, `&team_id=${team.id}`);
  check(await page.locator('#trends-members').isVisible(), 'no completions by member in a team view');
  const completedInTeam = teamWeeks.some((w) => w.counts[1] > 0);
  check(await page.locator('#trends-members-empty').isVisible() === !completedInTeam, 'the by-member note is wrong');
  const teamTask = await createTask(token, { title: 'team work while watching', team_id: team.id });
  const teamNow = await waitForTrends(page, getJson, token, zone.tz, `&team_id=${team.id}`);
  check(teamNow.at(-1).counts[0] === teamWeeks.at(-1).counts[0] + 1, 'the team’s week did not count the new task');

  step('a team’s completions by member, live');
  const me = await getJson(token, '/api/v1/me');
  const byMember = async () => {
    const trends = await getJson(token, `/api/v1/dashboard/trends?tz=${encodeURIComponent(zone.tz)}&interval=week&team_id=${team.id}`);
    const mine = (bucket) => bucket.by_member.find((m) => m.user_id === me.id)?.completed ?? 0;
    return [mine(trends.buckets.at(-1)), trends.buckets.reduce((sum, b) => sum + mine(b), 0)];
  };
  const shownFor = (id) => page.evaluate((user) => {
    const row = document.querySelector(`#trends-members-rows tr[data-user-id="${user}"]`);
    return row && [row.querySelector('th').textContent, ...[...row.querySelectorAll('td')].map((td) => Number(td.textContent))];
  }, id);
  const [weekBefore, allBefore] = await byMember();
  await send(token, 'PATCH', `/api/v1/tasks/${teamTask.id}`, { status: 'completed' });
  const want = [me.display_name, weekBefore + 1, allBefore + 1];
  await waitUntil(() => shownFor(me.id), (shown) => JSON.stringify(shown) === JSON.stringify(want),
    (shown) => `completions by member show ${JSON.stringify(shown)} for ${me.display_name}, not ${JSON.stringify(want)}`);
  check(JSON.stringify(await byMember()) === JSON.stringify(want.slice(1)), 'REST disagrees with the page');

  step('accessible, the numbers table open, light and dark');
  await page.locator('.trends-numbers summary').click();
  await checkAccessibility(page, 'light, trends');
  await page.emulateMedia({ colorScheme: 'dark' });
  await checkAccessibility(page, 'dark, trends');
  if (screenshot) await page.screenshot({ path: screenshot.replace(/\.png$/, '-dark.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

  step('a zone the server does not know: the page carries on in UTC');
  await page.route(/\/api\/v1\/dashboard\/activity\?days=1&tz=/, (route) => route.fulfill({
    status: 422,
    contentType: 'application/problem+json',
    body: JSON.stringify({
      type: 'about:blank', title: 'Unprocessable Content', status: 422, code: 'validation_failed',
      errors: [{ field: 'tz', message: 'not an IANA time zone' }],
    }),
  }));
  await page.reload();
  await page.waitForSelector('#connection[data-state="connected"]', { timeout: WITHIN });
  check((await page.locator('#activity-zone').textContent()).includes('(UTC)'), 'the activity is not said to be in UTC');
  const utcWeeks = await waitForTrends(page, getJson, token, 'UTC');
  check(utcWeeks.at(-1).start === mondayOf(zone.utcToday), `UTC weeks ${utcWeeks.map((w) => w.start)}`);
  await waitUntil(() => page.evaluate(() => document.querySelector('#activity-chart g.column:last-child')?.dataset.key),
    (day) => day === zone.utcToday, (day) => `the activity ends on ${day}, not UTC's ${zone.utcToday}`);
  await page.unroute(/\/api\/v1\/dashboard\/activity\?days=1&tz=/);
  check(unexpected(problems).length === 0, unexpected(problems).join('\n'));
}

const CSV_HEADER = 'id,title,description,status,priority,due_at,owner_id,team_id,created_at,started_at,completed_at,version';

/**
 * Times in the browser's week `monday` whose UTC time is in another week: Monday 00:30 there
 * at UTC+14 (still Sunday in UTC), Sunday 23:30 there at UTC−11 (already Monday in UTC).
 */
function acrossTheWeekBoundary(tz, monday) {
  const offset = OFFSETS[tz];
  const day = offset.startsWith('+') ? monday : addDays(monday, 6);
  const hour = offset.startsWith('+') ? '00' : '23';
  const at = (minute) => `${day}T${hour}:${minute}:00${offset}`;
  return { created: at('30'), started: at('35'), completed: at('40') };
}

/** Chooses `file` ({name, mimeType, buffer}) with the Import button; answers the request made. */
async function importThroughTheButton(page, file) {
  const sent = page.waitForRequest((r) => r.url().includes('/api/v1/tasks/import') && r.method() === 'POST');
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByRole('button', { name: 'Import a file…' }).click(),
  ]);
  await chooser.setFiles(file);
  return sent;
}

export async function runTransfer({ context, baseUrl, email, password, zone, screenshot }) {
  const { getJson, signIn } = rest(baseUrl, email, password);
  const { page, problems } = await openDashboard(context, baseUrl);
  say(`ZONE ${zone.tz} ${zone.today} ${zone.utcToday}`);
  await signInOnPage(page, email, password);
  const token = await signIn();
  const before = await waitForCards(page, await cardsOverRest(getJson, token));

  step('Export CSV downloads the tasks shown');
  const own = await getJson(token, '/api/v1/tasks?scope=own&limit=200');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  const exported = readFileSync(await download.path(), 'utf8').trimEnd().split(/\r\n/);
  check(download.suggestedFilename().endsWith('.csv'), `saved as ${download.suggestedFilename()}`);
  check(exported[0] === CSV_HEADER, `the export's header is ${exported[0]}`);
  check(exported.length === own.items.length + 1, `${exported.length - 1} tasks exported, not ${own.items.length}`);
  for (const task of own.items) check(exported.some((line) => line.startsWith(`${task.id},`)), `${task.title} is not exported`);
  await page.waitForFunction(() => /^Exported My tasks as CSV\.$/.test(document.getElementById('transfer-status').textContent),
    null, { timeout: WITHIN });

  step('Import a CSV of past tasks: they land in the browser’s week');
  const monday = addDays(mondayOf(zone.today), -21);
  const at = acrossTheWeekBoundary(zone.tz, monday);
  const csv = [
    CSV_HEADER,
    `,moved from elsewhere,,completed,high,,,,${at.created},${at.started},${at.completed},`,
    `,also moved,"with a description, and a comma",pending,low,,,,${at.created},,,`,
  ].join('\r\n');
  const csvRequest = await importThroughTheButton(page, { name: 'moved.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  check(/^text\/csv/.test(csvRequest.headers()['content-type']), `a .csv was sent as ${csvRequest.headers()['content-type']}`);
  await page.waitForFunction(() => document.getElementById('transfer-status').textContent === 'Imported 2 tasks into My tasks.',
    null, { timeout: WITHIN }).catch(async () => {
    throw new Error(`the import says ${await page.locator('#transfer-status').textContent()}`);
  });
  const after = await waitForCards(page, { ...before, total: before.total + 2, pending: before.pending + 1, completed: before.completed + 1 });
  const weeks = await waitForTrends(page, getJson, token, zone.tz);
  const week = weeks.find((w) => w.start === monday);
  check(week && week.counts[0] === 2 && week.counts[1] === 1 && week.timed.every(Boolean),
    `the week of ${monday} shows ${JSON.stringify(week)}`);
  await page.waitForSelector('#feed-list li[data-action="task.import"]', { timeout: WITHIN });
  const said = await page.locator('#feed-list li[data-action="task.import"]').textContent();
  check(/imported 2 tasks$/.test(said), `the feed says ${said}`);
  const utc = await getJson(token, `/api/v1/dashboard/trends?tz=UTC&interval=week&from=${addDays(monday, -7)}&to=${addDays(monday, 13)}`);
  check(utc.buckets.find((b) => b.start === monday)?.created !== 2, 'in UTC the same tasks fall in the same week: the test tells nothing');

  step('Import an NDJSON file with a broken line: its errors, line by line, and nothing imported');
  const ndjson = [
    JSON.stringify({ title: 'fine on its own' }),
    JSON.stringify({ title: 'broken', status: 'done' }),
  ].join('\n');
  const ndjsonRequest = await importThroughTheButton(page,
    { name: 'broken.ndjson', mimeType: 'application/octet-stream', buffer: Buffer.from(`${ndjson}\n`) });
  check(/^application\/x-ndjson/.test(ndjsonRequest.headers()['content-type']),
    `an .ndjson was sent as ${ndjsonRequest.headers()['content-type']}`);
  const alert = page.getByRole('alert').filter({ hasText: 'Nothing was imported' });
  await alert.waitFor({ timeout: WITHIN });
  const errors = await page.locator('#import-error-list li').evaluateAll((items) => items.map((li) => ({ line: li.dataset.line, text: li.textContent })));
  check(errors.length === 1 && errors[0].line === '2' && /^Line 2, status: /.test(errors[0].text), `the errors shown: ${JSON.stringify(errors)}`);
  check(JSON.stringify(await readCards(page)) === JSON.stringify(after), 'the cards moved after a refused import');
  check(JSON.stringify(await cardsOverRest(getJson, token)) === JSON.stringify(after), 'a refused import wrote something');
  await checkAccessibility(page, 'light, import errors');
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  check(unexpected(problems).length === 0, unexpected(problems).join('\n'));
}
