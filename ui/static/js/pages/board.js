// 督办看板: for a supervisor's unit (or any unit under it, #/board/{code}):
// the unit's counters, a chart and a table of completion and overdue
// counts per child unit with traffic lights, the ranking, the overdue
// tasks (filterable by section, level and how late), and exports to Excel.
// Every child unit and every task is a link.
// Calls: GET /board/rollup, GET /board/ranking, GET /board/overdue,
// GET /board/export (downloaded with the Authorization header), GET /plans.
import { api, qs, session, download } from '../api.js';
import { t, label } from '../i18n.js';
import { h, svg, icon, field, lightBadge, fmtDate, fmtDateTime, pct, pageHeader, taskHref, toast, empty, showFormError, clearErrors, busy, idemKey, put } from '../dom.js';
import { pagedList, table, cell } from '../list.js';
import { every } from '../state.js';
import { planYears, sections } from '../plans-cache.js';
import { trendCard } from '../trend.js';

export async function render(main, { params, query }) {
  const me = session.user;
  const unit = params[0] || me.unit.code;
  const years = await planYears().catch(() => []);
  let [planId, year] = (query.get('py') || '').split(':');
  if (!planId && years[0]) ({ plan_id: planId, year } = years[0]);
  const scope = { unit, plan: planId || '', year: year || '' };
  const f = {
    section: query.get('section') || '', level: query.get('level') || '',
    min_days_late: query.get('min') || '', max_days_late: query.get('max') || '',
  };

  const [rollup, ranking, secs] = await Promise.all([
    api(`/board/rollup${qs(scope)}`),
    api(`/board/ranking${qs(scope)}`),
    sections(planId).catch(() => []),
  ]);
  const self = rollup.unit;
  const title = `${t('boardTitle')} · ${self.unit.name}`;

  const overdueBox = h('div', { class: 'list-box' });
  const filters = overdueFilters(f, secs, unit, scope);
  const overdue = pagedList({
    container: overdueBox,
    makeList: () => table(t('overdueTitle'), [t('colTask'), t('colUnit'), t('colDue'), t('colLight'), t('colStatus'), t('colUrged')], 'overdue'),
    fetchPage: ({ cursor, limit }) => api(`/board/overdue${qs({ ...scope, ...f, limit, cursor })}`).catch((e) => {
      if (e.status === 422) showFormError(filters, e, { min_days_late: 'min_days_late', max_days_late: 'max_days_late' });
      throw e;
    }),
    renderItem: overdueRow,
    emptyText: t('noOverdue'),
  });

  const exportBtn = (report, text) => {
    const b = h('button', { type: 'button', class: 'btn', dataset: { export: report } }, icon('file'), text);
    b.addEventListener('click', async () => {
      b.disabled = true;
      const old = b.lastChild.textContent;
      b.lastChild.textContent = t('exporting');
      try {
        const extra = report === 'overdue' ? f : {};
        const name = await download(`/board/export${qs({ ...scope, ...extra, report, format: 'xlsx' })}`, `${report}.xlsx`);
        toast(t('exported', { name }), 'ok');
      } catch (e) {
        toast(e.message, 'error');
      } finally {
        b.lastChild.textContent = old;
        b.disabled = false;
      }
    });
    return b;
  };

  put(main, 
    crumbs(rollup.path || [], me.unit.code, scope),
    pageHeader(title, t('boardLead', { unit: self.unit.name }),
      exportBtn('rollup', t('exportRollup')), exportBtn('overdue', t('exportOverdue'))),
    years.length > 1 ? planYearSelect(years, scope, unit) : null,
    kpis(self),
    h('p', { class: 'unit-links' }, h('a', { href: `#/tasks?unit=${self.unit.code}&subtree=1` }, t('viewUnitTasks'))),
    rollup.children.length ? h('div', { class: 'grid-2 board-grid' }, chart(rollup.children, scope), rankingCard(ranking.items, scope)) : null,
    trendCard(scope),
    childTable(rollup.children, scope),
    h('details', { class: 'rules' }, h('summary', null, t('rules')), h('p', null, rollup.rules?.description || '')),
    h('section', { class: 'card', 'aria-labelledby': 'overdue-title' },
      h('div', { class: 'section-head' }, h('h2', { id: 'overdue-title' }, t('overdueTitle')), urgeButton(scope, f, () => overdue.reload())),
      filters,
      overdueBox));
  await overdue.load();
  every(60_000, () => overdue.reload());
}

function boardHref(code, scope) {
  const py = scope.plan ? `?py=${scope.plan}:${scope.year}` : '';
  return `#/board/${code}${py}`;
}

function crumbs(path, myCode, scope) {
  if (path.length < 2) return null;
  return h('nav', { class: 'crumbs', 'aria-label': t('breadcrumb') }, h('ol', null, path.map((u, i) => {
    const last = i === path.length - 1;
    const inScope = u.code.startsWith(myCode);
    return h('li', null, !last && inScope ? h('a', { href: boardHref(u.code, scope) }, u.name) : h('span', { 'aria-current': last ? 'page' : null }, u.name));
  })));
}

function planYearSelect(years, scope, unit) {
  const sel = h('select', { name: 'py' }, years.map((y) => h('option', { value: `${y.plan_id}:${y.year}`, selected: y.plan_id === scope.plan && String(y.year) === String(scope.year) }, `${y.plan_id} · ${y.year}`)));
  sel.addEventListener('change', () => { location.hash = `#/board/${unit}?py=${sel.value}`; });
  return h('div', { class: 'inline-field' }, field(t('planYear'), sel, { name: 'py' }));
}

function kpis(r) {
  const k = (name, value, cls) => h('div', { class: ['kpi', cls] }, h('span', { class: 'kpi-label' }, name), h('span', { class: 'kpi-value' }, value));
  return h('section', { class: 'kpis', 'aria-label': t('boardTitle') },
    h('div', { class: 'kpi kpi-light' }, h('span', { class: 'kpi-label' }, t('colLight')), lightBadge(r.light, label('boardLight', r.light, r.light_label))),
    k(t('kpiActive'), r.active),
    k(t('kpiCompleted'), r.completed),
    k(t('kpiSubmitted'), r.submitted),
    k(t('kpiOpen'), r.open),
    k(t('kpiOverdue'), r.overdue, r.overdue ? 'bad' : ''),
    k(t('kpiRate'), pct(r.completion_rate)));
}

// chart draws completion (bar) and overdue (number) per child unit as SVG.
// It is an image for screen readers with a text alternative; the same
// numbers are in the table below.
function chart(children, scope) {
  const rows = children.slice(0, 60);
  const rowH = 26;
  const labelW = 120;
  const barW = 300;
  const width = labelW + barW + 140;
  const height = rows.length * rowH + 24;
  const desc = rows.map((c) => `${c.unit.name} ${pct(c.completion_rate)}，${t('colOverdue')} ${c.overdue}`).join('；');
  const g = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title chart-desc', preserveAspectRatio: 'xMinYMin meet' },
    svg('title', { id: 'chart-title' }, t('chartTitle')),
    svg('desc', { id: 'chart-desc' }, desc),
    [0, 0.5, 1].map((x) => svg('g', null,
      svg('line', { x1: labelW + x * barW, x2: labelW + x * barW, y1: 0, y2: height - 18, class: 'grid-line' }),
      svg('text', { x: labelW + x * barW, y: height - 4, 'text-anchor': 'middle', class: 'axis' }, `${x * 100}%`))),
    rows.map((c, i) => {
      const y = i * rowH;
      const w = Math.max(c.completion_rate * barW, c.completion_rate > 0 ? 2 : 0);
      const a = svg('a', { href: boardHref(c.unit.code, scope) },
        svg('text', { x: labelW - 8, y: y + 17, 'text-anchor': 'end', class: 'bar-label' }, c.unit.name),
        svg('rect', { x: labelW, y: y + 5, width: barW, height: 16, class: 'bar-bg', rx: 2 }),
        svg('rect', { x: labelW, y: y + 5, width: w, height: 16, class: `bar bar-${c.light}`, rx: 2 }),
        svg('text', { x: labelW + barW + 8, y: y + 17, class: 'bar-value' }, pct(c.completion_rate)),
        c.overdue ? svg('text', { x: labelW + barW + 56, y: y + 17, class: 'bar-overdue' }, `${t('colOverdue')} ${c.overdue}`) : null);
      return a;
    }));
  return h('section', { class: 'card chart-card', 'aria-labelledby': 'chart-h' },
    h('h2', { id: 'chart-h' }, t('chartTitle')), h('p', { class: 'muted small' }, t('chartDesc')), h('div', { class: 'chart-scroll' }, g));
}

function rankingCard(items, scope) {
  return h('section', { class: 'card', 'aria-labelledby': 'rank-h' },
    h('h2', { id: 'rank-h' }, t('rankingTitle')),
    h('ol', { class: 'ranking' }, items.slice(0, 15).map((r) => h('li', { class: r.rank ? '' : 'unranked' },
      h('span', { class: 'rank-no' }, r.rank ? String(r.rank) : t('unranked')),
      h('a', { href: boardHref(r.unit.code, scope) }, r.unit.name),
      h('span', { class: 'rank-rate' }, pct(r.completion_rate)),
      lightBadge(r.light, label('boardLight', r.light, r.light_label))))));
}

function childTable(children, scope) {
  if (!children.length) return h('section', { class: 'card' }, h('h2', null, t('childTable')), empty(t('noChildren')));
  const { root, body } = table({ text: t('childTable'), visible: true },
    [t('colChild'), t('colLight'), t('colActive'), t('colCompleted'), t('colSubmitted'), t('colOpen'), t('colOverdue'), t('colRate')], 'children');
  for (const c of children) {
    body.append(h('tr', { dataset: { unit: c.unit.code } },
      cell(t('colChild'), h('a', { href: boardHref(c.unit.code, scope) }, c.unit.name)),
      cell(t('colLight'), lightBadge(c.light, label('boardLight', c.light, c.light_label))),
      cell(t('colActive'), String(c.active)),
      cell(t('colCompleted'), h('span', { class: 'n-completed' }, String(c.completed))),
      cell(t('colSubmitted'), String(c.submitted)),
      cell(t('colOpen'), String(c.open)),
      cell(t('colOverdue'), h('span', { class: ['n-overdue', c.overdue && 'bad'] }, String(c.overdue))),
      cell(t('colRate'), h('span', { class: 'n-rate' }, pct(c.completion_rate)))));
  }
  return h('section', { class: 'card' }, root);
}

function overdueRow(task) {
  return h('tr', { dataset: { id: task.id, rowLight: task.light } },
    cell(t('colTask'), h('a', { href: taskHref(task.id) }, task.title), h('span', { class: 'muted small block' }, `${task.template_id} · ${task.section_title || ''}`)),
    cell(t('colUnit'), task.unit.name),
    cell(t('colDue'), fmtDate(task.due)),
    cell(t('colLight'), lightBadge('red', t('lateDays', { n: task.days_late ?? 0 }))),
    cell(t('colStatus'), label('status', task.status, task.status_label)),
    cell(t('colUrged'), task.urge_count ? h('span', { class: 'tag tag-urged', title: fmtDateTime(task.last_urged_at) }, `${task.urge_count}`) : '—'));
}

// urgeButton opens 批量催办: a preview of the overdue tasks under the unit
// (with the filters shown), how many and which, then one note to urge them
// all. Each task is urged once per urging unit a day; the result names
// those that were not.
function urgeButton(scope, f, after) {
  const btn = h('button', { type: 'button', class: 'btn btn-warn', id: 'bulk-urge' }, t('bulkUrge'));
  const heading = h('h2', { id: 'urge-title' }, t('bulkUrgeTitle'));
  const preview = h('div', { class: 'urge-preview', id: 'urge-preview' });
  const note = h('textarea', { rows: 2, maxlength: 2000 });
  const withApprovers = h('input', { type: 'checkbox' });
  const confirm = h('button', { type: 'submit', class: 'btn btn-warn', id: 'urge-confirm' }, t('bulkUrgeBtn'));
  const result = h('div', { class: 'bulk-result', role: 'status' });
  const form = h('form', { class: 'dialog-form', novalidate: true }, heading, preview,
    field(t('urgeNote'), note, { name: 'note', optional: true }),
    h('label', { class: 'check' }, withApprovers, ' ', t('urgeWithApprovers')), result,
    h('div', { class: 'form-actions' }, confirm, h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, t('close'))));
  const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'urge-title' }, form);
  let ids = [];
  let key = idemKey();
  btn.addEventListener('click', async () => {
    put(result, '');
    put(preview, h('p', { class: 'muted' }, t('loading')));
    dlg.showModal();
    try {
      const pv = await api(`/board/urge${qs({ ...scope, ...f })}`);
      ids = pv.items.map((x) => x.id);
      confirm.disabled = ids.length === 0;
      put(preview, ids.length
        ? [h('p', { id: 'urge-count' }, t('bulkUrgePreview', { n: pv.count, m: pv.urged_today })),
          h('ul', null, pv.items.map((x) => h('li', null, `${x.unit.name} · ${x.title}`, x.urge_count ? h('span', { class: 'tag tag-urged' }, ` ${x.urge_count}`) : '')))]
        : h('p', { class: 'muted' }, t('bulkUrgeNone')));
    } catch (e) {
      put(preview, h('p', { class: 'bad' }, e.message));
    }
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    await busy(form, async () => {
      try {
        const r = await api('/board/urge', { method: 'POST', idem: key, json: { instance_ids: ids, note: note.value.trim(), with_approvers: withApprovers.checked } });
        key = idemKey();
        const msg = t('bulkUrgeDone', { ok: r.urged, failed: r.failed });
        const failed = r.results.filter((x) => x.status !== 200);
        put(result, h('div', { class: failed.length ? 'alert alert-warn' : 'alert alert-info', id: 'urge-result' }, h('p', null, msg),
          failed.length ? h('ul', null, failed.map((x) => h('li', null, `${x.instance_id}：${x.error?.detail || x.status}`))) : null));
        toast(msg, failed.length ? 'warn' : 'ok');
        confirm.disabled = true;
        await after();
      } catch (err) {
        if (err.status !== 0) key = idemKey();
        showFormError(form, err);
      }
    });
  });
  return [btn, dlg];
}

function overdueFilters(f, secs, unit, scope) {
  const sec = h('select', { name: 'section' }, h('option', { value: '' }, t('all')), secs.map((s) => h('option', { value: s.id, selected: s.id === f.section }, `${s.id}. ${s.title}`)));
  const lvl = h('select', { name: 'level' }, h('option', { value: '' }, t('all')),
    ['city', 'county', 'township'].map((l) => h('option', { value: l, selected: l === f.level }, label('level', l))));
  const min = h('input', { type: 'number', min: 0, max: 3660, inputmode: 'numeric', value: f.min_days_late });
  const max = h('input', { type: 'number', min: 0, max: 3660, inputmode: 'numeric', value: f.max_days_late });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': `${t('overdueTitle')} ${t('filters')}` },
    field(t('fSection'), sec, { name: 'section' }), field(t('fLevel'), lvl, { name: 'level' }),
    field(t('fMinLate'), min, { name: 'min_days_late' }), field(t('fMaxLate'), max, { name: 'max_days_late' }),
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('apply')),
      h('a', { class: 'btn', href: boardHref(unit, scope) }, t('reset'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    if (scope.plan) p.set('py', `${scope.plan}:${scope.year}`);
    if (sec.value) p.set('section', sec.value);
    if (lvl.value) p.set('level', lvl.value);
    if (min.value) p.set('min', min.value);
    if (max.value) p.set('max', max.value);
    location.hash = `#/board/${unit}?${p}`;
  });
  return form;
}
