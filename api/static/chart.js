// The activity chart: tasks created and completed per UTC day, as grouped SVG bars.

const SVG = 'http://www.w3.org/2000/svg';
const MARGIN = { top: 12, right: 8, bottom: 26, left: 32 };

function element(name, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

/** Up to five round steps from 0 to at least `max`. */
function ticks(max) {
  if (max <= 4) return [0, 1, 2, 3, 4].slice(0, Math.max(max, 1) + 1);
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough);
  const result = [];
  for (let value = 0; value < max + step; value += step) result.push(value);
  return result;
}

function dayLabel(date, many) {
  const day = new Date(`${date}T00:00:00Z`);
  if (many) return String(day.getUTCDate());
  return day.toLocaleDateString(undefined, { weekday: 'short', timeZone: 'UTC' });
}

/**
 * Draws `days` ([{date, created, completed}], oldest first) into `container`, replacing what
 * was there; call it again when the container is resized. The SVG is an image with a text summary; each day has a tooltip.
 */
export function drawActivity(container, days) {
  // Drawn at the container's own width, so text keeps its size on a phone as on a desktop.
  const width = Math.max(280, Math.round(container.clientWidth || 640));
  const height = width < 480 ? 180 : 220;
  const created = days.reduce((sum, d) => sum + d.created, 0);
  const completed = days.reduce((sum, d) => sum + d.completed, 0);
  const svg = element('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-labelledby': 'activity-chart-title',
    width,
    height,
  });
  svg.append(element('title', { id: 'activity-chart-title' },
    `Last ${days.length} days: ${created} created, ${completed} completed`));

  const max = Math.max(1, ...days.map((d) => Math.max(d.created, d.completed)));
  const scale = ticks(max);
  const top = scale[scale.length - 1];
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const y = (value) => MARGIN.top + plotHeight - (value / top) * plotHeight;

  const grid = element('g', { class: 'grid' });
  for (const value of scale) {
    grid.append(element('line', { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(value), y2: y(value) }));
    grid.append(element('text', { x: MARGIN.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, value));
  }
  svg.append(grid);

  const slot = plotWidth / Math.max(days.length, 1);
  const bar = Math.max(1, Math.min(18, slot * 0.36));
  const many = days.length > 10;
  days.forEach((day, index) => {
    const x = MARGIN.left + index * slot + slot / 2;
    const group = element('g', { class: 'day' });
    group.append(element('title', {}, `${day.date}: ${day.created} created, ${day.completed} completed`));
    // A transparent full-height target makes the tooltip easy to reach.
    group.append(element('rect', { class: 'hit', x: x - slot / 2, y: MARGIN.top, width: slot, height: plotHeight }));
    group.append(element('rect', {
      class: 'created', x: x - bar, y: y(day.created), width: bar, height: y(0) - y(day.created), rx: 2,
    }));
    group.append(element('rect', {
      class: 'completed', x, y: y(day.completed), width: bar, height: y(0) - y(day.completed), rx: 2,
    }));
    if (!many || index % 5 === (days.length - 1) % 5) {
      group.append(element('text', { class: 'axis', x, y: height - 8, 'text-anchor': 'middle' }, dayLabel(day.date, many)));
    }
    svg.append(group);
  });
  container.replaceChildren(svg);
}
