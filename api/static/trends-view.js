// The Trends panel: throughput, cumulative flow and lead/cycle time of the scope shown by day,
// ISO week or month in the browser's own time zone, from a `trends:` topic (its snapshot, then
// its deltas, as the live client applies them), with the same numbers in a table; for a team,
// who completed how many.

import { drawBars, drawLines, drawStacked } from './chart.js';

const $ = (id) => document.getElementById(id);
const count = new Intl.NumberFormat();
const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
// Bucket dates are calendar days already in the page's zone: formatted as they are.
const asDate = (date) => new Date(`${date}T00:00:00Z`);
const format = (options) => new Intl.DateTimeFormat(undefined, { ...options, timeZone: 'UTC' });
const dayMonth = format({ day: 'numeric', month: 'short' });
const longDate = format({ dateStyle: 'medium' });

/** How each interval is said. */
const WORDS = {
  day: {
    many: 'days', each: 'day by day', unit: 'Day', last: 'Today', label: dayMonth,
    zone: (zone) => `Calendar days in your time zone (${zone}).`, of: (start) => longDate.format(asDate(start)),
  },
  week: {
    many: 'weeks', each: 'week by week', unit: 'Week of', last: 'This week', label: dayMonth,
    zone: (zone) => `Weeks from Monday, in your time zone (${zone}).`,
    of: (start) => `Week of ${longDate.format(asDate(start))}`,
  },
  month: {
    many: 'months', each: 'month by month', unit: 'Month', last: 'This month',
    label: format({ month: 'short', year: '2-digit' }),
    zone: (zone) => `Calendar months in your time zone (${zone}).`,
    of: (start) => format({ month: 'long', year: 'numeric' }).format(asDate(start)),
  },
};
export const INTERVALS = Object.keys(WORDS);

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

function cell(key, text) {
  const td = document.createElement('td');
  td.dataset.key = key;
  td.textContent = text;
  return td;
}

export class TrendsView {
  #trends = null;
  #zone;
  #interval = 'week';
  #names = new Map(); // user id -> display name

  /**
   * `zone`: the IANA zone the trends are asked in (the browser's); `onInterval(interval)` is
   * called when the reader picks days, weeks or months.
   */
  constructor(zone, onInterval) {
    this.#zone = zone;
    for (const interval of INTERVALS) {
      $(`interval-${interval}`).addEventListener('click', () => {
        if (interval === this.#interval) return;
        this.#setInterval(interval);
        this.clear();
        onInterval(interval);
      });
    }
    this.#setInterval(this.#interval);
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

  /** Another zone for what follows (the server refused the browser's). */
  setZone(zone) {
    this.#zone = zone;
    this.#setInterval(this.#interval);
  }

    /** `day`, `week` or `month`: what the panel shows. */
  get interval() { return this.#interval; }

  /** Empties the panel while another scope or interval loads. */
  clear() {
    this.#trends = null;
    for (const id of [...CHARTS, 'trends-rows', 'trends-members-rows']) $(id).replaceChildren();
    $('trends-members').hidden = true;
    $('trends-summary').textContent = '';
    this.showStatus('Loading…');
  }

  /** A word about the panel instead of its numbers (null: none). */
  showStatus(text) {
    $('trends-status').hidden = !text;
    $('trends-status').textContent = text ?? '';
  }

  /** Who is who (user id -> display name), for a team's members. */
  setNames(names) {
    for (const [id, name] of names) this.#names.set(id, name);
    if (this.#trends) this.#showMembers();
  }

  /** The trends of a snapshot, or of a delta with its buckets in place. */
  show(trends) {
    // Not what this page asks for (a message from before the reader picked another interval).
    if (trends.tz !== this.#zone || trends.interval !== this.#interval) return;
    this.#trends = trends;
    this.showStatus(null);
    this.#draw();
  }

  #setInterval(interval) {
    this.#interval = interval;
    const words = WORDS[interval];
    for (const each of INTERVALS) $(`interval-${each}`).setAttribute('aria-pressed', String(each === interval));
    $('trends-zone').textContent = words.zone(this.#zone);
    $('trends-unit').textContent = words.unit;
    $('trends-numbers-summary').textContent = `The numbers, ${words.each}`;
    $('trends-table-caption').textContent = `Trends ${words.each}`;
    $('trends-members-last').textContent = words.last;
  }

  #draw() {
    const words = WORDS[this.#interval];
    const { buckets } = this.#trends;
    let completedSoFar = 0;
    const rows = buckets.map((bucket) => {
      completedSoFar += bucket.completed;
      return { bucket, values: figures(bucket, completedSoFar) };
    });
    const items = rows.map(({ bucket, values }) => ({
      key: bucket.start, label: words.label.format(asDate(bucket.start)), values, tip: this.#tip(bucket, values),
    }));
    const created = rows.reduce((sum, r) => sum + r.values.created, 0);
    const last = rows.at(-1)?.values;
    const span = `${rows.length} ${words.many}`;
    drawBars($('trends-throughput'), {
      id: 'trends-throughput-title', items, series: ['created', 'completed'], labelWidth: 48,
      title: `Throughput, last ${span}: ${created} created, ${completedSoFar} completed`,
    });
    drawStacked($('trends-flow'), {
      id: 'trends-flow-title', items, layers: ['completed_total', 'in_progress', 'pending'], labelWidth: 48,
      title: last
        ? `Cumulative flow: at the end ${last.pending} pending, ${last.in_progress} in progress, `
          + `${last.completed_total} completed since ${longDate.format(asDate(buckets[0].start))}`
        : 'Cumulative flow: nothing to show',
    });
    drawLines($('trends-times'), {
      id: 'trends-times-title', items, lines: TIMES.map(([key]) => key), labelWidth: 48,
      title: `Lead and cycle time, in hours. ${this.#latestTimes(rows)}`,
    });
    $('trends-summary').textContent = this.#latestTimes(rows);
    $('trends-rows').replaceChildren(...rows.map(({ bucket, values }) => this.#row(bucket, values)));
    this.#showMembers();
  }

  /** A team's completions by owner: in the last bucket, and over all of them. */
  #showMembers() {
    const { buckets } = this.#trends;
    const team = buckets.some((b) => Array.isArray(b.by_member));
    $('trends-members').hidden = !team;
    if (!team) return;
    const totals = new Map(); // user id -> [last bucket, all buckets]
    buckets.forEach((bucket, index) => {
      for (const { user_id: user, completed } of bucket.by_member ?? []) {
        const sums = totals.get(user) ?? [0, 0];
        if (index === buckets.length - 1) sums[0] += completed;
        sums[1] += completed;
        totals.set(user, sums);
      }
    });
    $('trends-members-span').textContent = `${buckets.length} ${WORDS[this.#interval].many}`;
    const rows = [...totals].sort(([, a], [, b]) => b[1] - a[1] || b[0] - a[0]).map(([user, [latest, all]]) => {
      const row = document.createElement('tr');
      row.dataset.userId = user;
      const name = document.createElement('th');
      name.scope = 'row';
      name.textContent = this.#names.get(user) ?? 'a former member';
      row.append(name, cell('last', count.format(latest)), cell('all', count.format(all)));
      return row;
    });
    $('trends-members-rows').replaceChildren(...rows);
    $('trends-members-empty').hidden = rows.length > 0;
  }

  /** The lead and cycle times of the latest bucket that completed anything. */
  #latestTimes(rows) {
    const latest = [...rows].reverse().find((r) => r.bucket.lead_time_hours);
    if (!latest) return `No task completed in these ${WORDS[this.#interval].many}.`;
    const v = latest.values;
    return `${WORDS[this.#interval].of(latest.bucket.start)}: lead time p50 ${duration(v.lead_p50)}, `
      + `p85 ${duration(v.lead_p85)}; cycle time p50 ${duration(v.cycle_p50)}, p85 ${duration(v.cycle_p85)}.`;
  }

  #tip(bucket, v) {
    const span = bucket.start === bucket.end ? longDate.format(asDate(bucket.start))
      : `${longDate.format(asDate(bucket.start))} – ${longDate.format(asDate(bucket.end))}`;
    return `${span}: ${v.created} created, ${v.completed} completed; at its end ${v.pending} pending, `
      + `${v.in_progress} in progress; lead time p50 ${duration(v.lead_p50)}, p85 ${duration(v.lead_p85)}; `
      + `cycle time p50 ${duration(v.cycle_p50)}, p85 ${duration(v.cycle_p85)}`;
  }

  #row(bucket, values) {
    const row = document.createElement('tr');
    row.dataset.start = bucket.start;
    const start = document.createElement('th');
    start.scope = 'row';
    const time = document.createElement('time');
    time.dateTime = bucket.start;
    time.textContent = WORDS[this.#interval].label.format(asDate(bucket.start));
    start.append(time);
    row.append(start);
    for (const key of ['created', 'completed', 'pending', 'in_progress']) row.append(cell(key, count.format(values[key])));
    for (const [key] of TIMES) row.append(cell(key, duration(values[key])));
    return row;
  }
}
