// The Trends panel: throughput per week, cumulative flow and lead/cycle time of the scope shown,
// in the browser's own time zone, from a `trends:` topic (its snapshot, then its deltas, as
// the live client applies them), with the same numbers in a table; for a team, who completed
// how many.

import { drawBars, drawLines, drawStacked } from './chart.js';

const $ = (id) => document.getElementById(id);
const count = new Intl.NumberFormat();
const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const shortDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
const longDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
// Bucket dates are calendar days already in the page's zone: formatted as they are.
const asDate = (date) => new Date(`${date}T00:00:00Z`);

const CHARTS = ['trends-throughput', 'trends-flow', 'trends-times'];
const TIMES = [
  ['lead_p50', 'lead_time_hours', 'p50'], ['lead_p85', 'lead_time_hours', 'p85'],
  ['cycle_p50', 'cycle_time_hours', 'p50'], ['cycle_p85', 'cycle_time_hours', 'p85'],
];

/** `45 min`, `5.5 h`, `3.2 d` (a duration given in hours); `–` for none. */
export function duration(hours) {
  if (hours === null || hours === undefined) return '–';
  if (hours < 1) return `${Math.round(hours * 60)} min`;
  if (hours < 48) return `${oneDecimal.format(hours)} h`;
  return `${oneDecimal.format(hours / 24)} d`;
}

/** A bucket's numbers as the charts and the table show them. */
function figures(bucket, completedSoFar) {
  const values = {
    created: bucket.created,
    completed: bucket.completed,
    pending: bucket.open_at_end - bucket.in_progress_at_end,
    in_progress: bucket.in_progress_at_end,
    completed_total: completedSoFar,
  };
  for (const [key, field, percentile] of TIMES) values[key] = bucket[field]?.[percentile] ?? null;
  return values;
}

export class TrendsView {
  #trends = null;
  #zone;
  #names = new Map(); // user id -> display name

  /** `zone`: the IANA zone the trends are asked in (the browser's). */
  constructor(zone) {
    this.#zone = zone;
    $('trends-zone').textContent = `Weeks from Monday, in your time zone (${zone}).`;
    // Each chart is drawn at its container's width.
    const widths = new Map();
    const observer = new ResizeObserver((entries) => {
      let changed = false;
      for (const entry of entries) {
        const width = Math.round(entry.contentRect.width);
        if (widths.get(entry.target) !== width) changed = true;
        widths.set(entry.target, width);
      }
      if (changed && this.#trends) this.#draw();
    });
    for (const id of CHARTS) observer.observe($(id));
  }

  /** Empties the panel while another scope loads. */
  clear() {
    this.#trends = null;
    for (const id of [...CHARTS, 'trends-rows', 'trends-members-rows']) $(id).replaceChildren();
    $('trends-members').hidden = true;
    this.showStatus('Loading…');
  }

  /** Who is who (user id -> display name), for a team's members. */
  setNames(names) {
    for (const [id, name] of names) this.#names.set(id, name);
    if (this.#trends) this.#showMembers();
  }

  /** A word about the panel instead of its numbers (null: none). */
  showStatus(text) {
    $('trends-status').hidden = !text;
    $('trends-status').textContent = text ?? '';
  }

  /** The trends of a snapshot, or of a delta with its buckets in place. */
  show(trends) {
    if (trends.tz !== this.#zone) return; // not what this page asked for
    this.#trends = trends;
    this.showStatus(null);
    this.#draw();
  }

  #draw() {
    const { buckets } = this.#trends;
    let completedSoFar = 0;
    const rows = buckets.map((bucket) => {
      completedSoFar += bucket.completed;
      return { bucket, values: figures(bucket, completedSoFar) };
    });
    const items = rows.map(({ bucket, values }) => ({
      key: bucket.start, label: shortDate.format(asDate(bucket.start)), values, tip: this.#tip(bucket, values),
    }));
    const created = rows.reduce((sum, r) => sum + r.values.created, 0);
    const last = rows.at(-1)?.values;
    drawBars($('trends-throughput'), {
      id: 'trends-throughput-title', items, series: ['created', 'completed'], labelWidth: 44,
      title: `Throughput, last ${rows.length} weeks: ${created} created, ${completedSoFar} completed`,
    });
    drawStacked($('trends-flow'), {
      id: 'trends-flow-title', items, layers: ['completed_total', 'in_progress', 'pending'], labelWidth: 44,
      title: last
        ? `Cumulative flow: at the end of this week ${last.pending} pending, ${last.in_progress} in progress, `
          + `${last.completed_total} completed since ${longDate.format(asDate(buckets[0].start))}`
        : 'Cumulative flow: no weeks',
    });
    drawLines($('trends-times'), {
      id: 'trends-times-title', items, lines: TIMES.map(([key]) => key), labelWidth: 44,
      title: `Lead and cycle time per week, in hours. ${this.#latestTimes(rows)}`,
    });
    $('trends-summary').textContent = this.#latestTimes(rows);
    $('trends-rows').replaceChildren(...rows.map(({ bucket, values }) => this.#row(bucket, values)));
    this.#showMembers();
  }

  /** A team's completions by owner: in the last week, and over all the weeks shown. */
  #showMembers() {
    const { buckets } = this.#trends;
    const team = buckets.some((b) => Array.isArray(b.by_member));
    $('trends-members').hidden = !team;
    if (!team) return;
    const totals = new Map(); // user id -> [last week, all weeks]
    buckets.forEach((bucket, index) => {
      for (const { user_id: user, completed } of bucket.by_member ?? []) {
        const sums = totals.get(user) ?? [0, 0];
        if (index === buckets.length - 1) sums[0] += completed;
        sums[1] += completed;
        totals.set(user, sums);
      }
    });
    $('trends-members-span').textContent = `${buckets.length} weeks`;
    const rows = [...totals].sort(([, a], [, b]) => b[1] - a[1] || b[0] - a[0]).map(([user, [week, all]]) => {
      const row = document.createElement('tr');
      row.dataset.userId = user;
      const name = document.createElement('th');
      name.scope = 'row';
      name.textContent = this.#names.get(user) ?? 'a former member';
      row.append(name, cell('week', count.format(week)), cell('all', count.format(all)));
      return row;
    });
    $('trends-members-rows').replaceChildren(...rows);
    $('trends-members-empty').hidden = rows.length > 0;
  }

  /** The lead and cycle times of the latest week that completed anything. */
  #latestTimes(rows) {
    const latest = [...rows].reverse().find((r) => r.bucket.lead_time_hours);
    if (!latest) return 'No task completed in these weeks.';
    const v = latest.values;
    return `Week of ${longDate.format(asDate(latest.bucket.start))}: lead time p50 ${duration(v.lead_p50)}, `
      + `p85 ${duration(v.lead_p85)}; cycle time p50 ${duration(v.cycle_p50)}, p85 ${duration(v.cycle_p85)}.`;
  }

  #tip(bucket, v) {
    return `${longDate.format(asDate(bucket.start))} – ${longDate.format(asDate(bucket.end))}: `
      + `${v.created} created, ${v.completed} completed; at its end ${v.pending} pending, `
      + `${v.in_progress} in progress; lead time p50 ${duration(v.lead_p50)}, p85 ${duration(v.lead_p85)}; `
      + `cycle time p50 ${duration(v.cycle_p50)}, p85 ${duration(v.cycle_p85)}`;
  }

  #row(bucket, values) {
    const row = document.createElement('tr');
    row.dataset.start = bucket.start;
    const week = document.createElement('th');
    week.scope = 'row';
    const time = document.createElement('time');
    time.dateTime = bucket.start;
    time.textContent = shortDate.format(asDate(bucket.start));
    week.append(time);
    row.append(week);
    for (const key of ['created', 'completed', 'pending', 'in_progress']) row.append(cell(key, count.format(values[key])));
    for (const [key] of TIMES) row.append(cell(key, duration(values[key])));
    return row;
  }
}

function cell(key, text) {
  const td = document.createElement('td');
  td.dataset.key = key;
  td.textContent = text;
  return td;
}
