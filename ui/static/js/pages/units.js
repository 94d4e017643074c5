// 单位管理 (admins): the admin's units as a tree (opened level by level)
// and a search by name or code; add a unit below one (its level follows
// from the code's length), rename a unit, and merge a unit into another
// under the same parent (its people and open tasks move; the page follows
// the tasks still to move).
// Calls: GET /units, GET /units?q=, GET /units?parent=, POST /units,
// PATCH /units/{code}, POST /units/{code}/merge, GET /units/{code}/merge.
import { api, qs, session } from '../api.js';
import { t } from '../i18n.js';
import { h, field, pageHeader, showFormError, clearErrors, busy, put, toast, announce, empty, errorBox } from '../dom.js';
import { every, stopTimers } from '../state.js';

// Code lengths by level: a unit below one of length n has the next length.
const codeLengths = [2, 4, 6, 9, 12];

export async function render(main, { query }) {
  const me = session.user;
  const root = await api('/units');
  const panel = h('div', { id: 'unit-panel', 'aria-live': 'polite' });
  const treeBox = h('div', { class: 'unit-tree', id: 'unit-tree' });
  const resultsBox = h('div', { id: 'unit-results' });
  const ctx = { panel, me, refresh: null };
  const q = h('input', { type: 'text', enterkeyhint: 'search', maxlength: 30, value: query.get('q') || '', autocomplete: 'off' });
  const search = h('form', { class: 'filters', role: 'search', id: 'unit-search', novalidate: true },
    field(t('unitSearch'), q, { name: 'q', hint: t('unitSearchHint') }),
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('unitSearchBtn'))));
  search.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(search);
    const v = q.value.trim();
    if (!v) { put(resultsBox); return; }
    try {
      const r = await api(`/units${qs({ q: v, limit: 50 })}`);
      const items = r.matches || [];
      put(resultsBox, items.length
        ? h('ul', { class: 'plain-list unit-matches' }, items.map((m) => h('li', null, nodeLine(m, ctx, m.path_name))))
        : empty(t('unitNoMatch', { q: v })));
    } catch (err) {
      showFormError(search, err);
    }
  });
  ctx.refresh = async () => {
    put(treeBox, h('ul', null, await node(await api('/units'), ctx, true)));
    if (q.value.trim()) search.requestSubmit();
  };
  put(main,
    pageHeader(t('unitsTitle'), t('unitsLead', { unit: me.unit?.name || '' }), h('a', { class: 'btn', href: '#/users' }, t('navUsers'))),
    panel,
    h('section', { class: 'card' }, search, resultsBox),
    h('section', { class: 'card', 'aria-labelledby': 'unit-tree-h' }, h('h2', { id: 'unit-tree-h' }, t('unitTree')), treeBox));
  put(treeBox, h('ul', null, await node(root, ctx, true)));
  if (q.value) search.requestSubmit();
}

// node is a unit in the tree, open (its children listed) or closed.
async function node(u, ctx, open) {
  const li = h('li', { dataset: { code: u.code } });
  const kids = h('ul');
  const toggle = h('button', { type: 'button', class: 'btn-ghost btn-sm toggle', 'aria-expanded': 'false', 'aria-label': t('unitOpen', { name: u.name }) }, '▸');
  const show = async () => {
    const full = await api(`/units${qs({ parent: u.code })}`);
    if (!full.children.length) { toggle.hidden = true; return; }
    put(kids, ...(await Promise.all(full.children.map((c) => node(c, ctx, false)))));
    toggle.textContent = '▾';
    toggle.setAttribute('aria-expanded', 'true');
  };
  toggle.addEventListener('click', async () => {
    if (toggle.getAttribute('aria-expanded') === 'true') {
      put(kids);
      toggle.textContent = '▸';
      toggle.setAttribute('aria-expanded', 'false');
      return;
    }
    try { await show(); } catch (e) { put(kids, h('li', null, errorBox(e))); }
  });
  if (u.code.length >= 12) toggle.hidden = true;
  li.append(h('div', { class: 'unit-node' }, toggle, nodeLine(u, ctx)), kids);
  if (open) await show();
  return li;
}

function nodeLine(u, ctx, pathName) {
  const mine = u.code === ctx.me.unit?.code;
  const btn = (key, action, fn) => h('button', { type: 'button', class: 'btn btn-sm', 'data-action': action, dataset: { code: u.code }, onclick: fn }, t(key));
  return h('span', { class: 'unit-node' },
    h('strong', null, u.name), h('span', { class: 'muted small' }, `${u.code} · ${u.level_label || ''}`),
    pathName ? h('span', { class: 'muted small' }, pathName) : null,
    u.code.length < 12 ? btn('unitAddBelow', 'add', () => addForm(u, ctx)) : null,
    btn('unitRename', 'rename', () => renameForm(u, ctx)),
    mine ? null : btn('unitMerge', 'merge', () => mergeForm(u, ctx)));
}

function panelForm(ctx, title, form) {
  put(ctx.panel, h('section', { class: 'card' }, h('h2', null, title), form));
  ctx.panel.scrollIntoView({ block: 'nearest' });
  form.querySelector('input, select, textarea')?.focus();
}

function actions(ctx, submitKey) {
  return h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t(submitKey)),
    h('button', { type: 'button', class: 'btn', onclick: () => { stopTimers(); put(ctx.panel); } }, t('cancel')));
}

function addForm(parent, ctx) {
  const len = codeLengths[codeLengths.indexOf(parent.code.length) + 1] || 12;
  const code = h('input', { type: 'text', inputmode: 'numeric', maxlength: len, value: parent.code, autocomplete: 'off' });
  const name = h('input', { type: 'text', maxlength: 60, autocomplete: 'off' });
  const form = h('form', { class: 'action-form', id: 'unit-add', novalidate: true },
    h('p', null, t('unitAddUnder', { name: parent.name, code: parent.code })),
    field(t('unitCode'), code, { name: 'code', required: true, hint: t('unitCodeHint', { n: len, parent: parent.code }) }),
    field(t('unitName'), name, { name: 'name', required: true }),
    actions(ctx, 'unitAddSubmit'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    await busy(form, async () => {
      try {
        const u = await api('/units', { method: 'POST', json: { parent_code: parent.code, code: code.value.trim(), name: name.value.trim() } });
        const msg = t('unitAdded', { name: u.name, code: u.code, level: u.level_label });
        toast(msg, 'ok');
        announce(msg);
        put(ctx.panel);
        await ctx.refresh();
      } catch (err) { showFormError(form, err); }
    });
  });
  panelForm(ctx, t('unitAddTitle'), form);
}

function renameForm(u, ctx) {
  const name = h('input', { type: 'text', maxlength: 60, value: u.name, autocomplete: 'off' });
  const form = h('form', { class: 'action-form', id: 'unit-rename', novalidate: true },
    field(t('unitNewName'), name, { name: 'name', required: true, hint: t('unitRenameHint') }),
    actions(ctx, 'unitRenameSubmit'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    await busy(form, async () => {
      try {
        const r = await api(`/units/${encodeURIComponent(u.code)}`, { method: 'PATCH', json: { name: name.value.trim() } });
        toast(t('unitRenamed', { old: u.name, name: r.name }), 'ok');
        put(ctx.panel);
        await ctx.refresh();
      } catch (err) { showFormError(form, err); }
    });
  });
  panelForm(ctx, t('unitRenameTitle', { name: u.name }), form);
}

async function mergeForm(u, ctx) {
  const full = await api(`/units/${encodeURIComponent(u.code)}`);
  const parentCode = full.parent_code;
  const siblings = parentCode ? (await api(`/units${qs({ parent: parentCode })}`)).children.filter((c) => c.code !== u.code) : [];
  const into = h('select', null, h('option', { value: '' }, t('unitMergeChoose')), siblings.map((s) => h('option', { value: s.code }, `${s.name}（${s.code}）`)));
  const reason = h('textarea', { rows: 2, maxlength: 1000 });
  const progress = h('div', { class: 'merge-progress', id: 'merge-progress', 'aria-live': 'polite' });
  const form = h('form', { class: 'action-form', id: 'unit-merge', novalidate: true },
    h('p', { class: 'alert alert-warn' }, t('unitMergeWarn', { name: u.name })),
    field(t('unitMergeInto'), into, { name: 'into', required: true, hint: t('unitMergeIntoHint') }),
    field(t('unitMergeReason'), reason, { name: 'reason', required: true }),
    actions(ctx, 'unitMergeSubmit'), progress);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const target = siblings.find((s) => s.code === into.value);
    if (target && !confirm(t('unitMergeConfirm', { name: u.name, into: target.name }))) return;
    await busy(form, async () => {
      try {
        const r = await api(`/units/${encodeURIComponent(u.code)}/merge`, { method: 'POST', json: { into: into.value, reason: reason.value } });
        const total = r.open_tasks;
        const bar = h('progress', { max: Math.max(total, 1), value: total ? 0 : 1 });
        const line = h('p', { class: 'small merge-status' });
        put(progress, bar, line);
        const poll = async () => {
          const m = await api(`/units/${encodeURIComponent(u.code)}/merge`);
          bar.value = total ? total - m.open_tasks : 1;
          if (m.open_tasks === 0) {
            stopTimers();
            line.textContent = t('unitMergeDone', { name: u.name, into: m.into_name, n: total });
            line.dataset.done = '1';
            announce(line.textContent);
            await ctx.refresh();
            return;
          }
          line.textContent = t('unitMergeRunning', { left: m.open_tasks, n: total });
        };
        await poll();
        if (!line.dataset.done) every(1500, () => poll().catch(() => {}));
      } catch (err) { showFormError(form, err); }
    });
  });
  panelForm(ctx, t('unitMergeTitle', { name: u.name }), form);
}
