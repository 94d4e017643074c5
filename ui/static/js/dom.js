// Small DOM helpers. Every text from the API goes in through textContent
// (h's string children), never innerHTML. Styles set from code go through
// the CSSOM (el.style), which the API's Content-Security-Policy allows,
// unlike style attributes in markup.
import { t, label, locale } from './i18n.js';
import { planNow } from './clock.js';

const props = new Set(['value', 'checked', 'disabled', 'selected', 'indeterminate', 'multiple', 'open']);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') Object.assign(el.style, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (props.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

// put replaces an element's children, skipping null and false as h does
// (replaceChildren would print them).
export function put(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// offset shows a plan offset ({days, working}) as "5 个工作日" or "10 天".
export function offset(o) {
  if (!o) return '';
  return t(o.working ? 'offsetWorking' : 'offsetDays', { n: o.days });
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVGNS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Icons are drawn, not taken from a font, so they look the same on every
// machine. They are decorative: the text beside them carries the meaning.
const paths = {
  check: 'M4 8.5l2.5 2.5L12 5.5',
  alert: 'M8 4v5M8 11.5v.5',
  tri: 'M8 3.5l5 9H3z',
  dash: 'M4.5 8h7',
  bell: 'M8 2.5a3.5 3.5 0 0 0-3.5 3.5v2.5L3 11h10l-1.5-2.5V6A3.5 3.5 0 0 0 8 2.5zM6.5 12.5a1.5 1.5 0 0 0 3 0',
  tasks: 'M3 4h10M3 8h10M3 12h6',
  approve: 'M3 8.5l3 3L13 4.5',
  board: 'M3 13V8M6.5 13V4M10 13V6.5M13.5 13V3',
  audit: 'M4 2.5h6l2.5 2.5v8.5H4zM6 7h4.5M6 9.5h4.5',
  plan: 'M3 3.5h10v9H3zM3 6.5h10M6 3.5v9',
  out: 'M6.5 3H3.5v10h3M9.5 5l3 3-3 3M12.5 8H6',
  globe: 'M8 2.5a5.5 5.5 0 1 0 0 11a5.5 5.5 0 1 0 0-11M2.5 8h11M8 2.5c2 2 2 9 0 11M8 2.5c-2 2-2 9 0 11',
  file: 'M4.5 2.5h5l2 2v9h-7zM9.5 2.5v2h2',
  back: 'M10 3.5L5.5 8l4.5 4.5',
  clock: 'M8 2.5a5.5 5.5 0 1 0 0 11a5.5 5.5 0 1 0 0-11M8 5v3.2l2 1.3',
  score: 'M5 2.5h6v3.5a3 3 0 0 1-6 0zM8 9v2.5M5.5 13.5h5M5 3.5H3a2 2 0 0 0 2 3M11 3.5h2a2 2 0 0 1-2 3',
  gear: 'M8 5.5a2.5 2.5 0 1 0 0 5a2.5 2.5 0 1 0 0-5M8 1.5v2M8 12.5v2M1.5 8h2M12.5 8h2M3.4 3.4l1.4 1.4M11.2 11.2l1.4 1.4M3.4 12.6l1.4-1.4M11.2 4.8l1.4-1.4',
  key: 'M5 5.5a2.5 2.5 0 1 0 0 5a2.5 2.5 0 1 0 0-5M7.5 8h6M11.5 8v2M13.5 8v2',
  users: 'M6 7.5a2.5 2.5 0 1 0 0-5a2.5 2.5 0 1 0 0 5M1.5 13.5c0-2.5 2-4 4.5-4s4.5 1.5 4.5 4M11 7a2 2 0 1 0 0-4M12 9.5c1.5.4 2.5 1.7 2.5 4',
  tree: 'M3 3h4v3H3zM9 10h4v3H9zM5 6v5.5h4',
};
export function icon(name, cls) {
  return svg('svg', { viewBox: '0 0 16 16', width: 16, height: 16, 'aria-hidden': 'true', focusable: 'false', class: `icon ${cls || ''}` },
    svg('path', { d: paths[name] || '', fill: 'none', stroke: 'currentColor', 'stroke-width': 1.6, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }));
}

// --- dates, in Asia/Shanghai (plan dates are Chinese office dates) ---

const fmtCache = new Map();
function fmt(opts) {
  const key = locale() + JSON.stringify(opts);
  if (!fmtCache.has(key)) fmtCache.set(key, new Intl.DateTimeFormat(locale(), { timeZone: 'Asia/Shanghai', hour12: false, ...opts }));
  return fmtCache.get(key);
}
export function fmtDateTime(iso) {
  if (!iso) return '';
  return fmt({ year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}
export function fmtDate(iso) {
  if (!iso) return '';
  return fmt({ year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
}
// ymd gives YYYY-MM-DD in Shanghai, for date inputs.
export function ymd(ms) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}
export function pct(rate) {
  return `${Math.round((rate || 0) * 1000) / 10}%`;
}

// --- countdowns and lights, following plan time ---

// countdownText says how long is left (or how late) for ms of plan time.
export function countdownText(ms) {
  const late = ms < 0;
  let s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hh = Math.floor(s / 3600); s -= hh * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d > 0) return t(late ? 'daysLate' : 'daysLeft', { d, h: hh });
  if (hh > 0) return t(late ? 'hoursLate' : 'hoursLeft', { h: hh, m });
  return t(late ? 'minutesLate' : 'minutesLeft', { m, s });
}

const DUE_SOON = 7 * 86400 * 1000;

// lightOf mirrors the API's rule for a task (docs/api.md, Lights), so a
// light turns as plan time passes between refreshes: grey finished, red
// overdue or past due, yellow with the unit and due within 7 plan days,
// green otherwise.
export function lightOf(task, now = planNow()) {
  if (task.status === 'completed' || task.status === 'cancelled') return 'grey';
  const left = Date.parse(task.due) - now;
  if (task.overdue || left < 0) return 'red';
  if (task.status !== 'submitted' && left < DUE_SOON) return 'yellow';
  return 'green';
}

const lightIcons = { red: 'alert', yellow: 'tri', green: 'check', grey: 'dash' };

// lightBadge is a traffic light that also says what it means, with a shape
// per colour, so it does not rely on colour alone.
export function lightBadge(light, text, extra) {
  return h('span', { class: `light light-${light}`, dataset: { light } },
    h('span', { class: 'light-dot', 'aria-hidden': 'true' }, icon(lightIcons[light] || 'dash')),
    h('span', { class: 'light-text' }, text), extra);
}

// taskLight is a task's light that follows plan time (see tick).
export function taskLight(task) {
  const light = lightOf(task);
  const el = lightBadge(light, label('light', light, light === task.light ? task.light_label : ''));
  el.dataset.due = task.due;
  el.dataset.status = task.status;
  if (task.overdue) el.dataset.overdue = '1';
  el.classList.add('live-light');
  return el;
}

// countdown is a live countdown to an instant of plan time.
export function countdown(dueIso, opts = {}) {
  const el = h('span', { class: 'countdown', dataset: { until: dueIso } });
  if (opts.finished) {
    el.textContent = '';
    return el;
  }
  updateCountdown(el);
  return el;
}

function updateCountdown(el) {
  const left = Date.parse(el.dataset.until) - planNow();
  el.textContent = countdownText(left);
  el.classList.toggle('late', left < 0);
}

// tick refreshes every countdown and light on the page.
export function tick() {
  const now = planNow();
  for (const el of document.querySelectorAll('.countdown[data-until]')) updateCountdown(el);
  for (const el of document.querySelectorAll('.live-light')) {
    const light = lightOf({ due: el.dataset.due, status: el.dataset.status, overdue: el.dataset.overdue === '1' }, now);
    if (light !== el.dataset.light) {
      el.className = `light light-${light} live-light`;
      el.dataset.light = light;
      put(el.querySelector('.light-dot'), icon(lightIcons[light]));
      el.querySelector('.light-text').textContent = label('light', light);
      const row = el.closest('[data-row-light]');
      if (row) row.dataset.rowLight = light;
    }
  }
}

// --- feedback ---

export function toast(text, kind = 'info') {
  const box = document.getElementById('toasts');
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : null }, text);
  box.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4500);
}

export function announce(text) {
  const el = document.getElementById('announcer');
  el.textContent = '';
  setTimeout(() => { el.textContent = text; }, 30);
}

export function empty(text) {
  return h('div', { class: 'empty', role: 'status' }, h('p', null, text));
}

export function errorBox(err, onRetry) {
  return h('div', { class: 'alert alert-error', role: 'alert' },
    h('p', null, err.message || String(err)),
    err.requestId ? h('p', { class: 'muted small' }, t('errorRef', { id: err.requestId })) : null,
    onRetry ? h('button', { type: 'button', class: 'btn', onclick: onRetry }, t('retry')) : null);
}

// --- forms: the API's field errors next to their fields ---

let fieldSeq = 0;

// field wraps a control with its label, hint and a place for its error.
// name is the API's field name; errors for it land here.
export function field(labelText, control, opts = {}) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  if (opts.name) control.name = control.name || opts.name;
  const hintId = opts.hint ? `${id}-hint` : null;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  if (opts.required) control.setAttribute('aria-required', 'true');
  return h('div', { class: ['field', opts.class], dataset: { field: opts.name || control.name || '' } },
    h('label', { for: id }, labelText, opts.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null,
      opts.optional ? h('span', { class: 'muted small' }, `（${t('optional')}）`) : null),
    control,
    hintId ? h('p', { class: 'hint', id: hintId }, opts.hint) : null);
}

// clearErrors removes the errors showFormError put in a form.
export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error, .form-error')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.endsWith('-err'));
    if (ids.length) el.setAttribute('aria-describedby', ids.join(' ')); else el.removeAttribute('aria-describedby');
  }
}

// showFormError puts each of a problem's field errors next to its field
// (matching "file[0]" to "file", "items[2].step" to "items"), and the rest
// with the problem's detail at the top of the form, then moves focus to
// the first error.
export function showFormError(form, err, aliases = {}) {
  clearErrors(form);
  const leftovers = [];
  let first = null;
  for (const fe of err.errors || []) {
    const base = (fe.field || '').replace(/\[\d+\].*$/, '').replace(/\..*$/, '');
    const name = aliases[fe.field] || aliases[base] || base;
    const box = name ? form.querySelector(`[data-field="${CSS.escape(name)}"]`) : null;
    if (!box) { leftovers.push(fe); continue; }
    const control = box.querySelector('input, textarea, select');
    const errId = `${control?.id || name}-err`;
    const msg = h('p', { class: 'field-error', id: errId }, icon('alert'), ' ', fe.line ? `${fe.message}（${fe.line}:${fe.column}）` : fe.message);
    box.append(msg);
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      control.setAttribute('aria-describedby', [control.getAttribute('aria-describedby'), errId].filter(Boolean).join(' '));
      first ??= control;
    }
  }
  const detail = err.message || t('formHasErrors');
  const summary = h('div', { class: 'form-error alert alert-error', role: 'alert', tabindex: '-1' },
    h('p', null, detail),
    leftovers.length ? h('ul', null, leftovers.map((fe) => h('li', null, fe.field ? t('fieldError', { field: fe.field, msg: fe.message }) : fe.message))) : null,
    err.requestId && err.status >= 500 ? h('p', { class: 'muted small' }, t('errorRef', { id: err.requestId })) : null);
  form.prepend(summary);
  (first || summary).focus();
}

// busy disables a form's buttons while a request runs.
export async function busy(form, fn) {
  const buttons = [...form.querySelectorAll('button')];
  buttons.forEach((b) => { b.disabled = true; });
  form.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    form.removeAttribute('aria-busy');
  }
}

// pager is the "load more" footer of a keyset-paginated list.
export function pager({ count, next, onMore }) {
  const status = h('span', { class: 'muted small', role: 'status' }, next ? t('shown', { n: count }) : t('allShown', { n: count }));
  const wrap = h('div', { class: 'pager' }, status);
  if (next) {
    const btn = h('button', { type: 'button', class: 'btn', 'data-action': 'more' }, t('loadMore'));
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      btn.textContent = t('loadingMore');
      try { await onMore(next); } finally { wrap.remove(); }
    });
    wrap.append(btn);
  }
  return wrap;
}

export function pageHeader(title, lead, ...actions) {
  return h('div', { class: 'page-head' },
    h('div', null, h('h1', { id: 'page-title', tabindex: '-1' }, title), lead ? h('p', { class: 'lead' }, lead) : null),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null);
}

// idemKey is a fresh Idempotency-Key. crypto.randomUUID needs a secure
// context, which an intranet server on plain http is not; getRandomValues
// works everywhere.
export function idemKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return `ui-${[...b].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

export function taskHref(id) { return `#/tasks/${encodeURIComponent(id)}`; }

// backLink goes back where the user came from (the list, the board), or
// to fallback when the page was opened directly.
export function backLink(fallback = '#/') {
  return h('a', { href: fallback, class: 'back-link', onclick: (e) => {
    if (history.length > 1) { e.preventDefault(); history.back(); }
  } }, icon('back'), t('back'));
}
