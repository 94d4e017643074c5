// 计划变更与版本 (admins of the province): record a change of a template by
// its circular's 文号 (move the deadline, change the reminders or the
// evidence note, or withdraw it, for every unit or some), watch it reach
// every open task, and read the plan's versions.
// Calls: GET /plans/{id}, GET/POST /plans/{id}/changes,
// GET /plans/{id}/changes/{change}, GET /plans/{id}/versions,
// GET /plans/{id}/versions/{v}/file.
import { api, download } from '../api.js';
import { t } from '../i18n.js';
import { h, field, fmtDate, fmtDateTime, pageHeader, toast, announce, showFormError, clearErrors, busy, empty, put, backLink, taskHref } from '../dom.js';
import { table, cell } from '../list.js';
import { planTemplates, storedPlans } from '../plans-cache.js';
import { every, stopTimers } from '../state.js';

export async function render(main, { params }) {
  const [planId] = params;
  const plans = await storedPlans();
  const plan = plans.find((p) => p.id === planId);
  if (!plan) {
    put(main, pageHeader(t('changesTitle'), null), empty(t('noSuchPlan', { id: planId })));
    return;
  }
  const tpls = await planTemplates(planId);
  const listBox = h('div', { id: 'change-list' });
  const versionsBox = h('div', { id: 'plan-versions' });
  const refresh = async () => {
    const [changes, versions] = await Promise.all([
      api(`/plans/${encodeURIComponent(planId)}/changes`),
      api(`/plans/${encodeURIComponent(planId)}/versions`),
    ]);
    put(listBox, changesTable(planId, changes.items || [], tpls));
    put(versionsBox, versionsTable(planId, versions.items || []));
    const running = (changes.items || []).some((c) => c.status === 'running');
    if (!running) stopTimers();
    return running;
  };
  put(main,
    backLink('#/plans'),
    pageHeader(`${t('changesTitle')} · ${plan.id}`, t('changesLead')),
    h('section', { class: 'card', 'aria-labelledby': 'change-form-h' }, h('h2', { id: 'change-form-h' }, t('changeFormTitle')),
      changeForm(plan, tpls, async () => { if (await refresh()) every(1500, refresh); })),
    h('section', { class: 'card', 'aria-labelledby': 'change-list-h' }, h('h2', { id: 'change-list-h' }, t('changeListTitle')), listBox),
    h('section', { class: 'card', 'aria-labelledby': 'versions-h' }, h('h2', { id: 'versions-h' }, t('versionsTitle')), versionsBox));
  if (await refresh()) every(1500, refresh);
}

// splitList reads a list typed with commas, 、, spaces or one per line.
function splitList(s) {
  return s.split(/[\s,，、;；]+/).map((x) => x.trim()).filter(Boolean);
}

function changeForm(plan, tpls, done) {
  const year = h('input', { type: 'number', min: 2000, max: 2100, value: String(plan.year), inputmode: 'numeric' });
  const tpl = h('select', null, h('option', { value: '' }, t('chooseTemplate')),
    tpls.map((x) => h('option', { value: x.id }, `${x.id} ${x.title}`)));
  const docNo = h('input', { type: 'text', maxlength: 100, placeholder: '湘计生协〔2021〕18号', autocomplete: 'off' });
  const reason = h('textarea', { rows: 2, maxlength: 1000 });
  const allUnits = h('input', { type: 'radio', name: 'scope', value: 'all', checked: true, id: 'scope-all' });
  const someUnits = h('input', { type: 'radio', name: 'scope', value: 'some', id: 'scope-some' });
  const units = h('textarea', { rows: 2, placeholder: t('unitsPlaceholder'), disabled: true });
  for (const r of [allUnits, someUnits]) r.addEventListener('change', () => { units.disabled = !someUnits.checked; });
  const toggle = (id, labelText, control) => {
    const box = h('input', { type: 'checkbox', id });
    control.disabled = true;
    box.addEventListener('change', () => { control.disabled = !box.checked; if (box.checked) control.focus(); });
    return { box, row: h('div', { class: 'check' }, box, h('label', { for: id }, labelText)) };
  };
  const newDue = h('input', { type: 'date' });
  const reminders = h('input', { type: 'text', placeholder: '14、3', inputmode: 'numeric' });
  const note = h('textarea', { rows: 2, maxlength: 2000 });
  const due = toggle('chg-due', t('changeDue'), newDue);
  const rem = toggle('chg-reminders', t('changeReminders'), reminders);
  const ev = toggle('chg-note', t('changeNote'), note);
  const withdraw = h('input', { type: 'checkbox', id: 'chg-withdraw' });
  withdraw.addEventListener('change', () => {
    for (const x of [due, rem, ev]) {
      x.box.disabled = withdraw.checked;
      if (withdraw.checked) { x.box.checked = false; x.box.dispatchEvent(new Event('change')); }
    }
  });
  const progress = h('div', { class: 'change-progress', 'aria-live': 'polite' });
  const form = h('form', { class: 'action-form', id: 'plan-change', novalidate: true },
    h('div', { class: 'grid-2' },
      field(t('launchYear'), year, { name: 'year' }),
      field(t('changeTemplate'), tpl, { name: 'template_id', required: true })),
    field(t('docNo'), docNo, { name: 'doc_no', required: true, hint: t('docNoHint') }),
    field(t('changeReason'), reason, { name: 'reason', required: true }),
    h('fieldset', { class: 'field', 'data-field': 'units' }, h('legend', null, t('changeScope')),
      h('div', { class: 'check' }, allUnits, h('label', { for: 'scope-all' }, t('scopeAll'))),
      h('div', { class: 'check' }, someUnits, h('label', { for: 'scope-some' }, t('scopeSome'))),
      units),
    h('fieldset', { class: 'field', 'data-field': 'change' }, h('legend', null, t('changeWhat')),
      due.row, field(t('newDue'), newDue, { name: 'new_due' }),
      rem.row, field(t('remindersDays'), reminders, { name: 'reminders', hint: t('remindersHint') }),
      ev.row, field(t('evidenceNote'), note, { name: 'evidence_note' }),
      h('div', { class: 'check danger' }, withdraw, h('label', { for: 'chg-withdraw' }, t('withdrawTemplate'))),
      h('div', { 'data-field': 'withdraw' })),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('changeSubmit'))),
    progress);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const body = { year: Number(year.value) || 0, template_id: tpl.value, doc_no: docNo.value, reason: reason.value };
    if (someUnits.checked) body.units = splitList(units.value);
    if (due.box.checked) body.new_due = newDue.value || null;
    if (rem.box.checked) {
      const days = splitList(reminders.value);
      body.reminders = days.map((d) => ({ days: /^\d+$/.test(d) ? Number(d) : -1 }));
    }
    if (ev.box.checked) body.evidence_note = note.value;
    if (withdraw.checked) {
      body.withdraw = true;
      if (!confirm(t('withdrawConfirm', { id: tpl.value }))) return;
    }
    await busy(form, async () => {
      try {
        const r = await api(`/plans/${encodeURIComponent(plan.id)}/changes`, { method: 'POST', json: body });
        const msg = t('changeRecorded', { doc: r.doc_no, n: r.total });
        toast(msg, 'ok');
        announce(msg);
        put(progress, h('p', { class: 'alert alert-ok', role: 'status' }, msg));
        await done();
      } catch (err) {
        showFormError(form, err, { reminders: 'reminders' });
      }
    });
  });
  return form;
}

function changesTable(planId, items, tpls) {
  if (!items.length) return empty(t('noChanges'));
  const title = (id) => tpls.find((x) => x.id === id)?.title || '';
  const { root, body } = table(t('changeListTitle'),
    [t('docNo'), t('changeTemplate'), t('changeWhat'), t('changeScope'), t('changeProgress'), t('changeBy')]);
  for (const c of items) {
    const settled = c.applied + c.skipped + c.failed;
    const bar = h('progress', { max: Math.max(c.total, 1), value: c.total ? settled : 1 });
    const status = c.status === 'done' ? t('changeDone', c) : t('changeRunning', c);
    const more = h('div', { class: 'change-problems' });
    const row = h('tr', { dataset: { id: String(c.id), status: c.status } },
      cell(t('docNo'), h('strong', null, c.doc_no), h('span', { class: 'muted small block' }, `${c.year} · ${c.reason}`)),
      cell(t('changeTemplate'), `${c.template_id} ${title(c.template_id)}`),
      cell(t('changeWhat'), c.summary),
      cell(t('changeScope'), c.units?.length ? (c.unit_names || c.units).join('、') : t('scopeAll')),
      cell(t('changeProgress'), bar, h('span', { class: 'small block change-status' }, status), more),
      cell(t('changeBy'), `${c.by?.name || ''} · ${fmtDateTime(c.at)}`));
    if (c.skipped + c.failed > 0) {
      const btn = h('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'problems' }, t('changeShowProblems'));
      btn.addEventListener('click', async () => {
        const r = await api(`/plans/${encodeURIComponent(planId)}/changes/${c.id}`);
        put(more, h('ul', { class: 'small' }, r.problems.map((p) => h('li', null,
          h('a', { href: taskHref(p.instance_id) }, p.unit_name || p.instance_id), ` · ${t(`item_${p.status}`)} · ${p.detail}`))));
      });
      more.append(btn);
    }
    body.append(row);
  }
  return root;
}

function versionsTable(planId, items) {
  if (!items.length) return empty(t('noVersions'));
  const { root, body } = table(t('versionsTitle'), [t('versionNo'), t('versionWhat'), t('changeBy')]);
  for (const v of items) {
    const file = v.kind === 'import'
      ? h('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'download' }, t('versionFile'))
      : null;
    file?.addEventListener('click', () => download(`/plans/${encodeURIComponent(planId)}/versions/${v.version}/file`, `${planId}-v${v.version}.yaml`));
    body.append(h('tr', { dataset: { version: String(v.version) } },
      cell(t('versionNo'), `v${v.version}`, h('span', { class: 'muted small block' }, v.kind === 'import' ? t('versionImport') : t('versionChange'))),
      cell(t('versionWhat'), v.summary, file),
      cell(t('changeBy'), `${v.by || ''} · ${fmtDate(v.at)}`)));
  }
  return root;
}
