// The board's trend chart: a unit's completion rate and overdue share over
// the plan year from the daily snapshots, with the year before drawn
// dashed on the same calendar. Inline SVG, no library; the chart is an
// image with a text alternative, and the month-end figures are in a table
// below it.
// Calls: GET /trends.
import { api, qs } from './api.js';
import { t, locale } from './i18n.js';
import { h, svg, pct, put, empty } from './dom.js';

const W = 900;
const H = 260;
const M = { l: 44, r: 14, t: 12, b: 26 };

// trendCard returns the card at once and fills it when the series comes.
export function trendCard(scope) {
  const body = h('div', { class: 'trend-body' }, h('p', { class: 'muted small' }, t('loading')));
  const card = h('section', { class: 'card trend-card', 'aria-labelledby': 'trend-h' },
    h('h2', { id: 'trend-h' }, t('trendTitle')), body);
  api(`/trends${qs({ unit: scope.unit, plan: scope.plan, year: scope.year })}`)
    .then((tr) => put(body, ...draw(tr)))
    .catch((e) => put(body, h('p', { class: 'muted small' }, e.message)));
  return card;
}

const dayMs = 86400_000;

function dayOfYear(iso) {
  const [y, m, d] = iso.split('-').map(Number);
  return (Date.UTC(y, m - 1, d) - Date.UTC(y, 0, 1)) / dayMs;
}

function draw(tr) {
  const cur = tr.days || [];
  const prev = tr.previous?.days || [];
  if (!cur.length && !prev.length) return [empty(t('trendNone'))];
  const year = tr.year;
  const days = (Date.UTC(year + 1, 0, 1) - Date.UTC(year, 0, 1)) / dayMs;
  const x = (iso) => M.l + (dayOfYear(iso) / (days - 1)) * (W - M.l - M.r);
  const y = (rate) => M.t + (1 - Math.min(1, Math.max(0, rate))) * (H - M.t - M.b);
  const line = (pts, key, cls) => {
    if (!pts.length) return null;
    if (pts.length === 1) return svg('circle', { cx: x(pts[0].day), cy: y(pts[0][key]), r: 3, class: cls });
    return svg('path', { d: pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.day).toFixed(1)},${y(p[key]).toFixed(1)}`).join(''), class: cls, fill: 'none' });
  };
  const monthFmt = new Intl.DateTimeFormat(locale(), { month: 'short', timeZone: 'UTC' });
  const months = Array.from({ length: 12 }, (_, m) => {
    const iso = `${year}-${String(m + 1).padStart(2, '0')}-01`;
    return { iso, label: monthFmt.format(new Date(Date.UTC(year, m, 1))) };
  });
  // The year before, on this year's calendar (29 February has no place in
  // a common year).
  const lastYear = prev.map((p) => ({ ...p, day: `${year}${p.day.slice(4)}` })).filter((p) => days === 366 || !p.day.endsWith('02-29'));
  const last = cur[cur.length - 1];
  const sameDay = last ? prev.find((p) => p.day.slice(5) >= last.day.slice(5)) || prev[prev.length - 1] : null;
  const desc = last
    ? t('trendDesc', { day: last.day, rate: pct(last.completion_rate), overdue: last.overdue, prevRate: sameDay ? pct(sameDay.completion_rate) : '—', prevOverdue: sameDay ? sameDay.overdue : '—' })
    : t('trendDescPrevOnly', { year: year - 1 });
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart trend', role: 'img', 'aria-labelledby': 'trend-title trend-desc', preserveAspectRatio: 'xMinYMin meet' },
    svg('title', { id: 'trend-title' }, t('trendTitle')),
    svg('desc', { id: 'trend-desc' }, desc),
    [0, 0.25, 0.5, 0.75, 1].map((r) => svg('g', null,
      svg('line', { x1: M.l, x2: W - M.r, y1: y(r), y2: y(r), class: 'grid-line' }),
      svg('text', { x: M.l - 6, y: y(r) + 4, 'text-anchor': 'end', class: 'axis' }, `${r * 100}%`))),
    months.map((m) => svg('text', { x: x(m.iso) + 2, y: H - 8, class: 'axis' }, m.label)),
    line(lastYear, 'completion_rate', 'trend-line trend-completion trend-prev'),
    line(lastYear, 'overdue_rate', 'trend-line trend-overdue trend-prev'),
    line(cur, 'completion_rate', 'trend-line trend-completion'),
    line(cur, 'overdue_rate', 'trend-line trend-overdue'));
  const key = (cls, text) => h('li', null, h('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), text);
  const legend = h('ul', { class: 'trend-legend small' },
    key('trend-completion', t('trendCompletion', { year })), key('trend-overdue', t('trendOverdue', { year })),
    key('trend-completion trend-prev', t('trendCompletion', { year: year - 1 })), key('trend-overdue trend-prev', t('trendOverdue', { year: year - 1 })));
  return [h('p', { class: 'muted small' }, t('trendLead')), h('div', { class: 'chart-scroll' }, chart), legend, monthTable(cur, prev, year)];
}

// monthTable gives each month's last snapshot, this year and the year before.
function monthTable(cur, prev, year) {
  const endOf = (pts) => {
    const out = new Map();
    for (const p of pts) out.set(Number(p.day.slice(5, 7)), p);
    return out;
  };
  const a = endOf(cur);
  const b = endOf(prev);
  const rows = [...new Set([...a.keys(), ...b.keys()])].sort((m, n) => m - n);
  const cellOf = (p, f) => (p ? f(p) : '—');
  return h('details', { class: 'trend-table' }, h('summary', null, t('trendTable')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
      h('caption', { class: 'sr-only' }, t('trendTable')),
      h('thead', null, h('tr', null, [t('trendMonth'), t('trendCompletion', { year }), t('trendOverdueN', { year }), t('trendCompletion', { year: year - 1 }), t('trendOverdueN', { year: year - 1 })]
        .map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, rows.map((m) => h('tr', null,
        h('td', null, t('trendMonthN', { m })),
        h('td', null, cellOf(a.get(m), (p) => pct(p.completion_rate))),
        h('td', null, cellOf(a.get(m), (p) => String(p.overdue))),
        h('td', null, cellOf(b.get(m), (p) => pct(p.completion_rate))),
        h('td', null, cellOf(b.get(m), (p) => String(p.overdue)))))))));
}
