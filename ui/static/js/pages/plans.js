// 计划管理 (admins of the province): the stored plans; upload a plan file to
// check it (every error with its line, shown in a table and on the file's
// own lines) or to import it; launch a plan for a year, all templates or
// some, and watch the launch progress.
// Calls: GET /plans, GET /plans/{id}, POST /plans/validate, POST /plans
// (multipart "file"), POST /plans/{id}/launch, GET /launches/{id},
// POST /plans/{id}/copy (复制到新年度).
import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, field, fmtDateTime, pageHeader, toast, announce, showFormError, clearErrors, busy, empty, idemKey, put } from '../dom.js';
import { table, cell } from '../list.js';
import { errorReport } from '../plan-errors.js';
import { forgetPlans, storedPlans, planYears, planTemplates } from '../plans-cache.js';
import { every, stopTimers } from '../state.js';

export async function render(main) {
  forgetPlans();
  const [plans, launched] = await Promise.all([storedPlans(), planYears()]);
  const plansBox = h('section', { class: 'card', 'aria-labelledby': 'stored-h' }, h('h2', { id: 'stored-h' }, t('storedPlans')), plansTable(plans, launched));
  // A plan file's errors take the whole width below the two forms.
  const result = h('div', { class: 'plan-result', 'aria-live': 'polite' });
  put(main,
    pageHeader(t('plansTitle'), t('plansLead'), h('a', { class: 'btn', href: '#/drafts', id: 'to-drafts' }, t('draftTitle'))),
    h('div', { class: 'grid-2' }, uploadCard(() => render(main), result), launchCard(plans)),
    result,
    copyCard(plans, () => render(main)),
    plansBox);
}

function plansTable(plans, launched) {
  if (!plans.length) return empty(t('noPlans'));
  const { root, body } = table(t('storedPlans'), [t('colPlan'), t('colYear'), t('colTemplates'), t('colSource'), t('colImported'), t('launchedYears')]);
  for (const p of plans) {
    const years = launched.filter((l) => l.plan_id === p.id).map((l) => l.year).join('、');
    body.append(h('tr', null,
      cell(t('colPlan'), h('strong', null, p.id), h('span', { class: 'muted small block' }, p.title)),
      cell(t('colYear'), String(p.year)),
      cell(t('colTemplates'), String(p.template_count)),
      cell(t('colSource'), p.source || ''),
      cell(t('colImported'), `${fmtDateTime(p.imported_at)} · ${p.imported_by || ''}`),
      cell(t('launchedYears'), years || '—',
        h('a', { class: 'btn btn-sm block', href: `#/plans/${encodeURIComponent(p.id)}/changes`, 'data-action': 'changes' }, t('planChanges')))));
  }
  return root;
}

// copyCard copies a stored plan to a new year under a new id; the id is
// proposed from the source's id with its year replaced.
function copyCard(plans, refresh) {
  if (!plans.length) return null;
  const from = h('select', { id: 'copy-from' }, plans.map((p) => h('option', { value: p.id }, `${p.id}（${p.year}）`)));
  const year = h('input', { type: 'number', id: 'copy-year', min: 2000, max: 2100, required: true });
  const id = h('input', { type: 'text', id: 'copy-id', required: true, maxlength: 64, pattern: '[a-z0-9][a-z0-9-]*', autocomplete: 'off' });
  const propose = () => {
    const p = plans.find((x) => x.id === from.value);
    if (!p) return;
    const y = Number(year.value) || p.year + 1;
    year.value = String(y);
    id.value = p.id.includes(String(p.year)) ? p.id.replace(String(p.year), String(y)) : `${p.id}-${y}`;
  };
  from.addEventListener('change', () => { year.value = ''; propose(); });
  year.addEventListener('change', propose);
  propose();
  const form = h('form', { class: 'action-form', id: 'plan-copy', novalidate: true },
    h('p', { class: 'muted small' }, t('copyLead')),
    field(t('copyFrom'), from, { name: 'from' }), field(t('copyYear'), year, { name: 'year', required: true }), field(t('copyID'), id, { name: 'id', required: true }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('copyBtn'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    await busy(form, async () => {
      try {
        const r = await api(`/plans/${encodeURIComponent(from.value)}/copy`, { method: 'POST', json: { id: id.value.trim(), year: Number(year.value) || 0 } });
        toast(t('copied', { id: r.id, year: r.year }), 'ok');
        announce(t('copied', { id: r.id, year: r.year }));
        refresh();
      } catch (err) {
        showFormError(form, err);
      }
    });
  });
  return h('section', { class: 'card', 'aria-labelledby': 'copy-h' }, h('h2', { id: 'copy-h' }, t('copyTitle')), form);
}

function uploadCard(refresh, result) {
  const file = h('input', { type: 'file', accept: '.yaml,.yml,application/yaml,text/yaml', required: true });
  const form = h('form', { class: 'action-form', id: 'plan-upload', novalidate: true, 'aria-labelledby': 'upload-h' },
    field(t('planFile'), file, { name: 'file', required: true }),
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn', value: 'validate', id: 'plan-validate' }, t('validateBtn')),
      h('button', { type: 'submit', class: 'btn btn-primary', value: 'import', id: 'plan-import' }, t('importBtn'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const which = e.submitter?.value || 'validate';
    clearErrors(form);
    put(result);
    const f = file.files[0];
    const fd = new FormData();
    if (f) fd.append('file', f, f.name);
    await busy(form, async () => {
      try {
        if (which === 'import') {
          const r = await api('/plans', { method: 'POST', form: fd });
          const msg = t('imported', { id: r.id });
          toast(msg, 'ok');
          announce(msg);
          await refresh();
          return;
        }
        const r = await api('/plans/validate', { method: 'POST', form: fd });
        put(result, h('div', { class: 'alert alert-ok', role: 'status' }, t('validOk', r)));
      } catch (err) {
        const lined = err.errors.filter((x) => x.line);
        if (!lined.length) {
          showFormError(form, err);
          return;
        }
        showFormError(form, { message: err.message, errors: [], status: err.status });
        put(result, h('section', { class: 'card', 'aria-label': t('planErrors', { n: err.errors.length }) }, errorReport(err, f ? await f.text() : null)));
      }
    });
  });
  return h('section', { class: 'card', 'aria-labelledby': 'upload-h' }, h('h2', { id: 'upload-h' }, t('uploadTitle')), form);
}

function launchCard(plans) {
  if (!plans.length) return h('section', { class: 'card' }, h('h2', null, t('launchTitle')), empty(t('noPlans')));
  const plan = h('select', null, plans.map((p) => h('option', { value: p.id }, `${p.id}（${p.year}）`)));
  const year = h('input', { type: 'number', min: 2000, max: 2100, value: String(plans[0].year), inputmode: 'numeric' });
  const tplBox = h('fieldset', { class: 'templates', 'data-field': 'templates' }, h('legend', null, t('launchTemplates')));
  const progress = h('div', { class: 'launch-progress', 'aria-live': 'polite' });
  const loadTemplates = async () => {
    const tpls = await planTemplates(plan.value).catch(() => []);
    const p = plans.find((x) => x.id === plan.value);
    if (p) year.value = String(p.year);
    const groups = new Map();
    for (const tp of tpls) groups.set(tp.section, [...(groups.get(tp.section) || []), tp]);
    put(tplBox, h('legend', null, t('launchTemplates')),
      h('div', { class: 'tpl-scroll' }, [...groups].map(([sec, list]) => h('div', { class: 'tpl-group' },
        h('p', { class: 'tpl-section' }, `${sec}. ${list[0].section_title}`),
        list.map((tp) => {
          const id = `tpl-${tp.id.replace(/\W/g, '_')}`;
          return h('div', { class: 'check' }, h('input', { type: 'checkbox', id, value: tp.id, name: 'templates' }), h('label', { for: id }, `${tp.id} ${tp.title}`));
        })))));
  };
  plan.addEventListener('change', loadTemplates);
  loadTemplates();
  let key = idemKey();
  const form = h('form', { class: 'action-form', id: 'plan-launch', novalidate: true },
    field(t('launchPlan'), plan, { name: 'plan' }), field(t('launchYear'), year, { name: 'year' }), tplBox,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('launchBtn'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const templates = [...tplBox.querySelectorAll('input:checked')].map((x) => x.value);
    await busy(form, async () => {
      try {
        const r = await api(`/plans/${encodeURIComponent(plan.value)}/launch`, { method: 'POST', idem: key, json: { year: Number(year.value) || 0, templates } });
        key = idemKey();
        toast(t('launchStarted', { id: r.launch_id }), 'ok');
        watch(r.url.replace(/^\/api\/v1/, ''), r.launch_id, progress);
      } catch (err) {
        showFormError(form, err);
      }
    });
  });
  return h('section', { class: 'card', 'aria-labelledby': 'launch-h' }, h('h2', { id: 'launch-h' }, t('launchTitle')), form, progress);
}

// watch polls a launch until it is done or failed.
function watch(path, id, box) {
  stopTimers();
  const bar = h('progress', { max: 1, value: 0, 'aria-labelledby': 'launch-status-h' });
  const status = h('p', { class: 'launch-status', id: 'launch-status' }, t('launchWaiting'));
  put(box, h('h3', { id: 'launch-status-h' }, `${t('launchStatus')} · ${id}`), bar, status);
  let done = false;
  const poll = async () => {
    if (done) return;
    try {
      const p = await api(path);
      const n = p.started + p.existing + p.failed;
      bar.max = Math.max(p.total, 1);
      bar.value = n;
      const word = { pending: t('launchWaiting'), running: t('launchRunning'), done: t('launchDone'), failed: t('launchFailed') }[p.status] || p.status;
      // pending: asked for, the workflow has not counted the tasks yet.
      status.textContent = p.status === 'pending' ? word : `${word} · ${t('launchCounts', p)}${p.error ? ` · ${p.error}` : ''}`;
      status.dataset.status = p.status;
      if (p.status === 'done' || p.status === 'failed') {
        done = true;
        stopTimers();
        announce(status.textContent);
        forgetPlans();
      }
    } catch (e) {
      // The API writes a pending row before it answers; a 404 (an older
      // server, a row not visible yet) just means "not started": poll on.
      if (e.status !== 404) status.textContent = e.message;
    }
  };
  poll();
  every(1000, poll);
}
