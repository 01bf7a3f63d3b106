// The page's charts, as SVG drawn at their container's width: grouped bars (activity per day,
// throughput per week), stacked areas (cumulative flow) and lines (lead and cycle time). Each
// SVG is an image with a text summary for its title, and each column has a tooltip.

const SVG = 'http://www.w3.org/2000/svg';
const MARGIN = { top: 12, right: 8, bottom: 26, left: 36 };

function element(name, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

/** Up to five round steps from 0 to at least `max`. */
function ticks(max) {
  if (max <= 4) return [0, 1, 2, 3, 4].slice(0, Math.max(Math.ceil(max), 1) + 1);
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough);
  const result = [];
  for (let value = 0; value < max + step; value += step) result.push(value);
  return result;
}

/**
 * An empty chart in `container`: the SVG with its title (`id`, `title`), the value grid up to
 * `max`, and where each of `count` columns sits. `draw(svg, plot)` adds the marks.
 */
function frame(container, { id, title, max, count }) {
  // Drawn at the container's own width, so text keeps its size on a phone as on a desktop.
  const width = Math.max(280, Math.round(container.clientWidth || 640));
  const height = width < 480 ? 180 : 220;
  const svg = element('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': id, width, height });
  svg.append(element('title', { id }, title));
  const scale = ticks(Math.max(max, 1e-9));
  const top = scale[scale.length - 1];
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const y = (value) => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const grid = element('g', { class: 'grid' });
  for (const value of scale) {
    grid.append(element('line', { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(value), y2: y(value) }));
    grid.append(element('text', { x: MARGIN.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, value));
  }
  svg.append(grid);
  const slot = (width - MARGIN.left - MARGIN.right) / Math.max(count, 1);
  const x = (index) => MARGIN.left + index * slot + slot / 2;
  return { svg, width, height, y, slot, x, plotHeight };
}

/**
 * A column's group: its tooltip, a transparent full-height target that makes the tooltip easy
 * to reach, and its axis label when `label` is not null.
 */
function column(plot, index, { key, tip, label }) {
  const group = element('g', { class: 'column', 'data-key': key });
  group.append(element('title', {}, tip));
  group.append(element('rect', {
    class: 'hit', x: plot.x(index) - plot.slot / 2, y: MARGIN.top, width: plot.slot, height: plot.plotHeight,
  }));
  if (label !== null) {
    group.append(element('text', { class: 'axis', x: plot.x(index), y: plot.height - 8, 'text-anchor': 'middle' }, label));
  }
  return group;
}

/** Whether column `index` of `count` gets an axis label: every one that leaves `labelWidth`. */
function labelled(plot, index, count, labelWidth) {
  const step = Math.max(1, Math.ceil(labelWidth / plot.slot));
  return (count - 1 - index) % step === 0;
}

/** The columns of `items`, each labelled when there is room (`labelWidth`, in pixels). */
function columns(plot, items, labelWidth) {
  return items.map((item, index) => column(plot, index, {
    ...item, label: labelled(plot, index, items.length, labelWidth) ? item.label : null,
  }));
}

/**
 * Bars side by side per column. `items`: [{key, label, tip, values: {series: number}}],
 * oldest first; `series`: the value names, each drawn with its own class; `labelWidth`: the
 * room an axis label needs.
 */
export function drawBars(container, { id, title, items, series, labelWidth = 40 }) {
  const max = Math.max(1, ...items.flatMap((item) => series.map((name) => item.values[name])));
  const plot = frame(container, { id, title, max, count: items.length });
  const bar = Math.max(1, Math.min(18, (plot.slot * 0.72) / series.length));
  columns(plot, items, labelWidth).forEach((group, index) => {
    const item = items[index];
    series.forEach((name, n) => {
      const value = item.values[name];
      group.append(element('rect', {
        class: name, x: plot.x(index) - (bar * series.length) / 2 + n * bar, y: plot.y(value),
        width: bar, height: plot.y(0) - plot.y(value), rx: 2,
      }));
    });
    plot.svg.append(group);
  });
  container.replaceChildren(plot.svg);
}

/**
 * Areas stacked from the bottom in the order of `layers` (value names, each its own class),
 * one point per item: a cumulative flow diagram.
 */
export function drawStacked(container, { id, title, items, layers, labelWidth = 40 }) {
  const totals = items.map((item) => layers.reduce((sum, name) => sum + item.values[name], 0));
  const plot = frame(container, { id, title, max: Math.max(1, ...totals), count: items.length });
  // Under the areas, which let the pointer through to them (CSS), so each column has its tooltip.
  plot.svg.append(...columns(plot, items, labelWidth));
  let below = items.map(() => 0);
  for (const name of layers) {
    const above = below.map((base, index) => base + items[index].values[name]);
    const upper = above.map((value, index) => `${plot.x(index)},${plot.y(value)}`);
    const lower = below.map((value, index) => `${plot.x(index)},${plot.y(value)}`).reverse();
    plot.svg.append(element('polygon', { class: `area ${name}`, points: [...upper, ...lower].join(' ') }));
    below = above;
  }
  container.replaceChildren(plot.svg);
}

/**
 * One line per value name in `lines` (each its own class), broken where a value is null, a
 * dot on each point.
 */
export function drawLines(container, { id, title, items, lines, labelWidth = 40 }) {
  const values = items.flatMap((item) => lines.map((name) => item.values[name] ?? 0));
  const plot = frame(container, { id, title, max: Math.max(1, ...values), count: items.length });
  plot.svg.append(...columns(plot, items, labelWidth));
  for (const name of lines) {
    let run = [];
    const flush = () => {
      if (run.length > 1) plot.svg.append(element('polyline', { class: `line ${name}`, points: run.join(' ') }));
      run = [];
    };
    items.forEach((item, index) => {
      const value = item.values[name];
      if (value === null || value === undefined) {
        flush();
        return;
      }
      run.push(`${plot.x(index)},${plot.y(value)}`);
      plot.svg.append(element('circle', { class: `dot ${name}`, cx: plot.x(index), cy: plot.y(value), r: 3 }));
    });
    flush();
  }
  container.replaceChildren(plot.svg);
}

function dayLabel(date, many) {
  const day = new Date(`${date}T00:00:00Z`);
  if (many) return String(day.getUTCDate());
  return day.toLocaleDateString(undefined, { weekday: 'short', timeZone: 'UTC' });
}

/**
 * Draws `days` ([{date, created, completed}], oldest first: calendar days in the zone the
 * page asked for) into `container`, replacing what was there; call it again when the
 * container is resized.
 */
export function drawActivity(container, days) {
  const created = days.reduce((sum, d) => sum + d.created, 0);
  const completed = days.reduce((sum, d) => sum + d.completed, 0);
  const many = days.length > 10;
  drawBars(container, {
    id: 'activity-chart-title',
    title: `Last ${days.length} days: ${created} created, ${completed} completed`,
    series: ['created', 'completed'],
    // Weekdays under a week, else the day of the month, every fifth or so.
    labelWidth: many ? 90 : 30,
    items: days.map((day) => ({
      key: day.date,
      label: dayLabel(day.date, many),
      tip: `${day.date}: ${day.created} created, ${day.completed} completed`,
      values: day,
    })),
  });
}
