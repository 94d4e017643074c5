// 任务详情: what the task is (the quoted sentence of the work points), the
// unit, the deadline, progress, the approval chain with who decided what
// and when, the evidence files and the timeline; and the forms for what the
// caller may do now (the API lists them in `actions`): report progress with
// files, submit, request an extension, decide a step or an extension,
// cancel. An admin sees a link to the task's workflow in Temporal's Web UI
// when the server names one.
// The everyday 督办 actions are here too: urge (催办), withdraw a submission
// (撤回), return to a chosen step, hand a step over (转交), add a signer
// (加签), name the unit's 承办人; the chain card shows 会签/或签 steps with
// their signatures; and the task's discussion (讨论) with @mentions.
// Calls: GET /tasks/{id}, /tasks/{id}/people, /tasks/{id}/comments;
// POST /tasks/{id}/progress|submit (multipart), /extension, /decision,
// /extension/decision, /cancel, /urge, /withdraw, /hand-over, /signers,
// PUT /assignee (JSON), each with an Idempotency-Key; POST and DELETE
// /tasks/{id}/comments; GET /tasks/{id}/evidence/{sha256} (download).
import { api, taskPath, download, session } from '../api.js';
import { t, label } from '../i18n.js';
import { h, icon, field, taskLight, countdown, fmtDate, fmtDateTime, ymd, toast, showFormError, clearErrors, busy, idemKey, announce, backLink, put, offset } from '../dom.js';
import { planNow } from '../clock.js';
import { onBus, every } from '../state.js';

export async function render(main, { params }) {
  const id = params[0];
  let task;
  try {
    task = await api(taskPath(id));
  } catch (e) {
    if (e.status === 404) {
      put(main, h('h1', { id: 'page-title', tabindex: '-1' }, t('notFoundPage')), h('p', null, t('notFoundTask')),
        h('p', null, backLink()));
      return;
    }
    throw e;
  }
  const view = h('div', { class: 'task-page' });
  put(main, view);
  let extra = await extras(id);
  const reload = async () => {
    try {
      [task, extra] = await Promise.all([api(taskPath(id)), extras(id)]);
      draw(view, task, extra, reload);
    } catch (e) {
      toast(e.message, 'error');
    }
  };
  draw(view, task, extra, reload);
  // Decisions by others arrive as notifications about this task.
  onBus('notification', (ev) => { if (ev.detail?.instance_id === id) reload(); });
  every(60_000, () => { if (!view.querySelector('form[data-dirty]')) reload(); });
}

// extras are what the page names besides the task: its people (to hand a
// step to, to name 承办人, to mention) and its discussion.
async function extras(id) {
  const [people, comments] = await Promise.all([
    api(taskPath(id, '/people')).then((r) => r.items).catch(() => []),
    api(taskPath(id, '/comments')).catch(() => ({ items: [], delete_within_seconds: 0 }))]);
  return { people, comments };
}

function draw(view, task, extra, reload) {
  const finished = task.status === 'completed' || task.status === 'cancelled';
  const returned = task.returned && task.last_reason;
  put(view, 
    h('p', { class: 'crumbs' }, backLink()),
    h('div', { class: 'page-head task-head' },
      h('div', null,
        h('p', { class: 'eyebrow' }, `${task.template_id} · ${task.section_title || ''}`),
        h('h1', { id: 'page-title', tabindex: '-1' }, task.title),
        h('p', { class: 'task-badges' }, taskLight(task),
          h('span', { class: `status status-${task.status}`, id: 'task-status' }, label('status', task.status, task.status_label)),
          task.status === 'submitted' && task.approver_unit
            ? h('span', { class: 'tag' }, `${t('stepOf', { s: task.current_step, n: task.step_count })} · ${t('waitingOn', { unit: waitingNames(task) })}`) : null,
          task.waiting_for ? h('span', { class: 'tag', id: 'task-handed' }, t('handedTo', { name: task.waiting_for.name })) : null,
          task.assignee ? h('span', { class: 'tag', id: 'task-assignee' }, t('assigneeTag', { name: task.assignee.name })) : null,
          task.urge_count ? h('span', { class: 'tag tag-urged', id: 'task-urged' }, t('urgedTimes', { n: task.urge_count, at: fmtDateTime(task.last_urged_at) })) : null,
          h('span', { class: 'muted small mono' }, task.id),
          workflowLink(task)))),
    returned ? h('div', { class: 'alert alert-warn returned', role: 'alert' },
      h('h2', null, t('returnedTitle')),
      h('p', { class: 'return-reason' }, t('returnedBy', { reason: task.last_reason }))) : null,
    task.extension ? h('div', { class: 'alert alert-info' },
      h('h2', null, t('extensionPending')),
      h('p', null, t('extensionDetail', { date: fmtDate(task.extension.new_due), reason: task.extension.reason, who: task.extension.requested_by, unit: task.extension.decider?.name || '' }))) : null,
    h('div', { class: 'grid-2' },
      requirement(task, finished),
      chain(task)),
    actionsCard(task, reload, extra.people),
    h('div', { class: 'grid-2' },
      evidence(task),
      timeline(task)),
    comments(task, extra, reload));
}

// workflowLink opens the task's workflow in Temporal's Web UI: the API
// names the UI (temporal_ui in /me) to admins when one is configured.
function workflowLink(task) {
  const ui = session.user?.temporal_ui;
  if (!ui?.workflow_url) return null;
  return h('a', { id: 'task-workflow', class: 'small', href: ui.workflow_url + encodeURIComponent(task.id),
    target: '_blank', rel: 'noopener', title: t('temporalLinkTitle') }, t('temporalLink'));
}

// waitingNames are the units the step waiting waits on: one, or several
// in 会签/或签.
function waitingNames(task) {
  const units = task.waiting_units?.length ? task.waiting_units : [task.approver_unit];
  return units.map((u) => u.name).join('、');
}

function requirement(task, finished) {
  const progress = task.progress_base > 0 ? `${task.progress} / ${task.progress_base}` : String(task.progress || 0);
  const target = task.target ? ` （${t('progress')} ≥ ${task.target}）` : '';
  const ratio = task.ratio ? ` （≥ ${task.ratio.num}/${task.ratio.den}）` : '';
  return h('section', { class: 'card', 'aria-labelledby': 'req-title' },
    h('h2', { id: 'req-title' }, t('taskRequirement')),
    h('figure', { class: 'quote' },
      h('blockquote', null, h('p', null, task.quote)),
      h('figcaption', null, t('quoteSource'))),
    h('dl', { class: 'facts' },
      fact(t('section'), `${task.section}. ${task.section_title || ''}`),
      fact(t('kind'), label('kind', task.kind, task.kind_label) + (task.period_label ? ` · ${task.period_label}` : '')),
      fact(t('unit'), `${task.unit.name}（${label('level', task.unit.level, task.unit.level_label)}）`),
      fact(t('due'), h('span', null, fmtDateTime(task.due), ' ', finished ? null : countdown(task.due))),
      task.due_note ? fact(t('dueNote'), task.due_note) : null,
      task.kind === 'count' || task.kind === 'ratio' || task.progress ? fact(t('progress'), progress + target + ratio) : null,
      fact(t('evidenceReq'), task.evidence_required ? t('evidenceRequired', { note: task.evidence_note || '' }) : t('evidenceOptional'))));
}

function fact(k, v) {
  return [h('dt', null, k), h('dd', null, v)];
}

function chain(task) {
  return h('section', { class: 'card', 'aria-labelledby': 'chain-title' },
    h('h2', { id: 'chain-title' }, t('chainTitle')),
    h('ol', { class: 'chain' }, (task.chain || []).map((s) => h('li', { class: `step step-${s.state}`, dataset: { step: s.step } },
      h('span', { class: 'step-no', 'aria-hidden': 'true' }, String(s.step)),
      h('div', { class: 'step-body' },
        h('p', { class: 'step-head' },
          h('strong', null, `${t('chainStep', { n: s.step })} · ${s.unit.name}`), ' ',
          h('span', { class: `step-state state-${s.state}` }, label('step', s.state, s.state_label))),
        h('p', { class: 'small muted' }, t('sla', { sla: offset(s.sla) }),
          s.state === 'waiting' && s.due ? [' · ', countdown(s.due)] : null),
        s.signers?.length ? h('p', { class: 'small step-signers' },
          h('span', { class: 'tag' }, s.mode === 'all' ? t('modeAll') : t('modeAny')), ' ', s.signers.map((u) => u.name).join('、')) : null,
        s.signed?.length ? h('p', { class: 'small ok step-signed' }, t('signedBy', { names: s.signed.map((x) => x.name).join('、') })) : null,
        s.assignee ? h('p', { class: 'small' }, t('handedTo', { name: s.assignee.name })) : null,
        s.added_by ? h('p', { class: 'small muted step-added' }, t('addedBy', { who: s.added_by, reason: s.added_reason })) : null,
        s.decided_at ? h('p', { class: 'small' }, t('decidedBy', { who: s.decided_by, at: fmtDateTime(s.decided_at) })) : null,
        s.returned_to ? h('p', { class: 'small bad step-returned' }, t('returnedToStep', { n: s.returned_to })) : null,
        s.reason ? h('p', { class: 'step-reason' }, `${t('reasonLabel')}：${s.reason}`) : null)))),
    (task.decisions || []).length ? h('details', { class: 'decisions' },
      h('summary', null, `${t('decisionsTitle')}（${task.decisions.length}）`),
      h('ul', null, task.decisions.map((d) => h('li', null,
        h('span', { class: d.approve ? 'ok' : 'bad' }, `${t('chainStep', { n: d.step })} ${label('event', d.approve ? 'approved' : 'rejected', d.label)}`),
        d.returned_to ? ` → ${t('returnedToStep', { n: d.returned_to })}` : '',
        ` · ${d.actor} · ${fmtDateTime(d.at)}`, d.reason ? ` · ${d.reason}` : null)))) : null);
}

function evidence(task) {
  const files = task.evidence || [];
  return h('section', { class: 'card', 'aria-labelledby': 'ev-title' },
    h('h2', { id: 'ev-title' }, t('evidenceTitle')),
    files.length ? h('ul', { class: 'files' }, files.map((f) => {
      const btn = h('button', { type: 'button', class: 'btn-link', 'aria-label': `${t('download')} ${f.name}` }, icon('file'), f.name);
      btn.addEventListener('click', async () => {
        btn.disabled = true;
        try { await download(f.url, f.name); } catch (e) { toast(e.message, 'error'); } finally { btn.disabled = false; }
      });
      return h('li', null, btn, h('span', { class: 'muted small' }, ` ${size(f.size)}`));
    })) : h('p', { class: 'muted' }, t('noEvidence')));
}

function size(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function timeline(task) {
  const evs = task.timeline || [];
  return h('section', { class: 'card', 'aria-labelledby': 'tl-title' },
    h('h2', { id: 'tl-title' }, t('timelineTitle')),
    evs.length ? h('ol', { class: 'timeline' }, [...evs].reverse().map((e) => h('li', { class: `ev ev-${e.kind}` },
      h('time', { datetime: e.at }, fmtDateTime(e.at)),
      h('p', null, h('strong', null, label('event', e.kind, e.kind_label)), e.actor_name ? ` · ${e.actor_name}` : '',
        e.on_behalf_of ? t('onBehalf', { name: e.on_behalf_of.name }) : '',
        e.step ? ` · ${t('chainStep', { n: e.step })}` : '',
        e.to_step ? ` → ${t('returnedToStep', { n: e.to_step })}` : '',
        e.person ? ` · ${e.person.name}` : '',
        e.change ? h('span', { class: 'tag ev-docno' }, t('changeDocNo', { doc: e.change.doc_no })) : ''),
      e.reason ? h('p', { class: 'ev-reason' }, `${t('reasonLabel')}：${e.reason}`) : null,
      e.note ? h('p', { class: 'ev-note' }, e.note) : null))) : h('p', { class: 'muted' }, t('noTimeline')));
}

// --- forms ---

function actionsCard(task, reload, people = []) {
  const a = new Set(task.actions || []);
  const forms = [];
  if (a.has('decide')) forms.push(decideForm(task, reload));
  if (a.has('hand_over')) forms.push(handOverForm(task, reload, people));
  if (a.has('add_signer')) forms.push(addSignerForm(task, reload));
  if (a.has('decide_extension')) forms.push(decideExtensionForm(task, reload));
  if (a.has('report_progress')) forms.push(progressForm(task, reload));
  if (a.has('submit')) forms.push(submitForm(task, reload));
  if (a.has('withdraw')) forms.push(withdrawForm(task, reload));
  if (a.has('request_extension')) forms.push(extensionForm(task, reload));
  if (a.has('name_assignee')) forms.push(assigneeForm(task, reload, people));
  if (a.has('urge')) forms.push(urgeForm(task, reload));
  if (a.has('cancel')) forms.push(cancelForm(task, reload));
  if (!forms.length) return null;
  return h('section', { class: 'card actions-card', 'aria-labelledby': 'act-title' },
    h('h2', { id: 'act-title' }, t('actionsTitle')),
    h('div', { class: 'forms' }, forms));
}

// actionForm wraps a form that posts one decision. A fresh Idempotency-Key
// is made when the form is drawn and kept until the server answers, so a
// retry after a network failure cannot decide twice.
function actionForm({ title, id, cls, fields, buttons, send, done }) {
  let key = idemKey();
  const form = h('form', { class: ['action-form', cls], id, novalidate: true, 'aria-labelledby': `${id}-title` },
    h('h3', { id: `${id}-title` }, title), fields, h('div', { class: 'form-actions' }, buttons));
  form.addEventListener('input', () => { form.dataset.dirty = '1'; });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const which = e.submitter?.value;
    await busy(form, async () => {
      try {
        const r = await send(key, which);
        key = idemKey();
        delete form.dataset.dirty;
        const msg = typeof done === 'function' ? done(which) : done;
        toast(msg, 'ok');
        announce(msg);
        await r?.after?.();
      } catch (err) {
        if (err.status === 0) { showFormError(form, err); return; } // keep the key: a retry is the same request
        key = idemKey();
        showFormError(form, err, { 'Idempotency-Key': '' });
      }
    });
  });
  return form;
}

function filesField(name = 'file') {
  const input = h('input', { type: 'file', name, multiple: true, accept: '.pdf,.ofd,.jpg,.jpeg,.png,.doc,.docx,.xls,.xlsx' });
  return { input, el: field(t('files'), input, { name: 'file', hint: t('filesHint'), optional: true }) };
}

function multipart(fields, input) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) if (v !== '' && v != null) fd.append(k, v);
  for (const f of input.files) fd.append('file', f, f.name);
  return fd;
}

function progressForm(task, reload) {
  const needsValue = task.kind === 'count' || task.kind === 'ratio';
  const needsBase = task.kind === 'ratio' && task.ratio && !task.ratio.base;
  const value = h('input', { type: 'number', min: 0, step: 1, inputmode: 'numeric', value: needsValue ? String(task.progress || '') : '' });
  const base = h('input', { type: 'number', min: 1, step: 1, inputmode: 'numeric', value: task.progress_base ? String(task.progress_base) : '' });
  const note = h('textarea', { rows: 3, maxlength: 2000 });
  const files = filesField();
  return actionForm({
    title: t('reportTitle'), id: 'form-progress',
    fields: [
      needsValue ? field(t('value'), value, { name: 'value' }) : null,
      needsBase ? field(t('base'), base, { name: 'base' }) : null,
      field(t('note'), note, { name: 'note' }),
      files.el],
    buttons: [h('button', { type: 'submit', class: 'btn btn-primary' }, t('reportBtn'))],
    send: async (key) => {
      await api(taskPath(task.id, '/progress'), { method: 'POST', idem: key,
        form: multipart({ value: needsValue ? value.value : '', base: needsBase ? base.value : '', note: note.value.trim() }, files.input) });
      return { after: reload };
    },
    done: t('progressSaved'),
  });
}

function submitForm(task, reload) {
  const note = h('textarea', { rows: 3, maxlength: 2000 });
  const files = filesField();
  const first = task.chain?.[0]?.unit?.name || '';
  return actionForm({
    title: t('submitTitle'), id: 'form-submit',
    fields: [
      h('p', { class: 'hint' }, t('submitHint', { unit: first }), task.evidence_required ? ` ${t('evidenceRequired', { note: task.evidence_note || '' })}` : ''),
      field(t('note'), note, { name: 'note' }),
      files.el],
    buttons: [h('button', { type: 'submit', class: 'btn btn-primary' }, t('submitBtn'))],
    send: async (key) => {
      await api(taskPath(task.id, '/submit'), { method: 'POST', idem: key, form: multipart({ note: note.value.trim() }, files.input) });
      return { after: reload };
    },
    done: t('submitted'),
  });
}

function extensionForm(task, reload) {
  const min = ymd(Math.max(planNow(), Date.parse(task.due)) + 86400_000);
  const date = h('input', { type: 'date', min });
  const reason = h('textarea', { rows: 2, maxlength: 1000 });
  return actionForm({
    title: t('extensionTitle'), id: 'form-extension', cls: 'secondary',
    fields: [
      h('p', { class: 'hint' }, t('extensionHint', { unit: task.extension_unit?.name || '' })),
      field(t('newDue'), date, { name: 'new_due', required: true }),
      field(t('reasonLabel'), reason, { name: 'reason', required: true })],
    buttons: [h('button', { type: 'submit', class: 'btn' }, t('extensionBtn'))],
    send: async (key) => {
      await api(taskPath(task.id, '/extension'), { method: 'POST', idem: key, json: { new_due: date.value || null, reason: reason.value.trim() } });
      return { after: reload };
    },
    done: t('extensionRequested'),
  });
}

function decideForm(task, reload) {
  const reason = h('textarea', { rows: 3, maxlength: 1000 });
  // A return goes to the unit, or (from step 2 on) to an earlier step.
  const returnTo = h('select', null, h('option', { value: '0' }, t('returnToUnit')),
    (task.chain || []).filter((s) => s.step < task.current_step).map((s) => h('option', { value: String(s.step) }, t('returnToStep', { n: s.step, unit: s.unit.name }))));
  return actionForm({
    title: t('decideTitle', { n: task.current_step }), id: 'form-decide', cls: 'emphasis',
    fields: [
      field(t('reasonLabel'), reason, { name: 'reason', hint: t('reasonHint') }),
      task.current_step > 1 ? field(t('returnTo'), returnTo, { name: 'return_to' }) : null],
    buttons: [
      h('button', { type: 'submit', class: 'btn btn-primary', name: 'approve', value: 'yes' }, icon('approve'), t('approve')),
      h('button', { type: 'submit', class: 'btn btn-danger', name: 'approve', value: 'no' }, t('reject'))],
    send: async (key, which) => {
      const body = { step: task.current_step, approve: which === 'yes', reason: reason.value.trim() };
      if (which !== 'yes' && returnTo.value !== '0') body.return_to = Number(returnTo.value);
      await api(taskPath(task.id, '/decision'), { method: 'POST', idem: key, json: body });
      return { after: reload };
    },
    done: (which) => (which === 'yes' ? t('approved') : t('rejected')),
  });
}

function handOverForm(task, reload, people) {
  const parent = parentCode(task.approver_unit?.code || '');
  const to = h('select', null,
    people.filter((p) => p.for?.includes('hand_over')).map((p) => h('option', { value: `user:${p.id}` }, p.name)),
    parent ? h('option', { value: 'parent' }, t('handOverParent', { unit: parentName(task, parent) })) : null);
  const reason = h('textarea', { rows: 2, maxlength: 1000 });
  return actionForm({
    title: t('handOverTitle'), id: 'form-hand-over', cls: 'secondary',
    fields: [h('p', { class: 'hint' }, t('handOverHint')), field(t('handOverTo'), to, { name: 'to_user_id' }), field(t('reasonLabel'), reason, { name: 'reason', optional: true })],
    buttons: [h('button', { type: 'submit', class: 'btn' }, t('handOverBtn'))],
    send: async (key) => {
      const body = { step: task.current_step, reason: reason.value.trim() };
      if (to.value === 'parent') body.to_parent = true; else body.to_user_id = Number(to.value.split(':')[1] || 0);
      await api(taskPath(task.id, '/hand-over'), { method: 'POST', idem: key, json: body });
      return { after: reload };
    },
    done: t('handedOver'),
  });
}

function addSignerForm(task, reload) {
  const own = task.approver_unit?.code || '';
  const parent = parentCode(own);
  const unit = h('select', null, h('option', { value: '' }, '—'));
  const pos = h('select', null, h('option', { value: 'before' }, t('before')), h('option', { value: 'after' }, t('after')));
  const reason = h('textarea', { rows: 2, maxlength: 1000 });
  // The peers of the approving unit, and the unit above it.
  if (parent) {
    api(`/units/${encodeURIComponent(parent)}`).then((u) => {
      unit.append(h('option', { value: u.code }, `${u.name}（${t('handOverParent', { unit: '' }).replace(/（.*）/, '')}）`));
      return api(`/units?parent=${encodeURIComponent(parent)}`);
    }).then((r) => {
      for (const c of r.children || []) if (c.code !== own) unit.append(h('option', { value: c.code }, c.name));
    }).catch(() => {});
  }
  return actionForm({
    title: t('addSignerTitle'), id: 'form-add-signer', cls: 'secondary',
    fields: [h('p', { class: 'hint' }, t('addSignerHint')), field(t('addSignerUnit'), unit, { name: 'unit_code' }),
      field(t('addSignerPos'), pos, { name: 'before' }), field(t('reasonLabel'), reason, { name: 'reason', required: true })],
    buttons: [h('button', { type: 'submit', class: 'btn' }, t('addSignerBtn'))],
    send: async (key) => {
      await api(taskPath(task.id, '/signers'), { method: 'POST', idem: key,
        json: { step: task.current_step, unit_code: unit.value, before: pos.value === 'before', reason: reason.value.trim() } });
      return { after: reload };
    },
    done: t('signerAdded'),
  });
}

function withdrawForm(task, reload) {
  const reason = h('textarea', { rows: 2, maxlength: 1000 });
  return actionForm({
    title: t('withdrawTitle'), id: 'form-withdraw', cls: 'secondary',
    fields: [h('p', { class: 'hint' }, t('withdrawHint')), field(t('reasonLabel'), reason, { name: 'reason', optional: true })],
    buttons: [h('button', { type: 'submit', class: 'btn' }, t('withdrawBtn'))],
    send: async (key) => {
      await api(taskPath(task.id, '/withdraw'), { method: 'POST', idem: key, json: { reason: reason.value.trim() } });
      return { after: reload };
    },
    done: t('withdrawn'),
  });
}

function assigneeForm(task, reload, people) {
  const who = h('select', null, h('option', { value: '' }, t('assigneeNone')),
    people.filter((p) => p.for?.includes('name_assignee')).map((p) => h('option', { value: String(p.id), selected: task.assignee?.user_id === p.id }, p.name)));
  return actionForm({
    title: t('assigneeTitle'), id: 'form-assignee', cls: 'secondary',
    fields: [h('p', { class: 'hint' }, t('assigneeHint')), field(t('assigneeTitle'), who, { name: 'user_id' })],
    buttons: [h('button', { type: 'submit', class: 'btn' }, t('assigneeBtn'))],
    send: async (key) => {
      await api(taskPath(task.id, '/assignee'), { method: 'PUT', idem: key, json: { user_id: who.value ? Number(who.value) : null } });
      return { after: reload };
    },
    done: t('assigneeSaved'),
  });
}

function urgeForm(task, reload) {
  const note = h('textarea', { rows: 2, maxlength: 2000 });
  const withApprovers = h('input', { type: 'checkbox' });
  return actionForm({
    title: t('urgeTitle'), id: 'form-urge', cls: 'secondary',
    fields: [field(t('urgeNote'), note, { name: 'note', optional: true }),
      h('label', { class: 'check' }, withApprovers, ' ', t('urgeWithApprovers'))],
    buttons: [h('button', { type: 'submit', class: 'btn btn-warn' }, t('urgeBtn'))],
    send: async (key) => {
      await api(taskPath(task.id, '/urge'), { method: 'POST', idem: key, json: { note: note.value.trim(), with_approvers: withApprovers.checked } });
      return { after: reload };
    },
    done: t('urged'),
  });
}

// parentCode is the code of the unit above (division codes are prefixes).
function parentCode(code) {
  const lens = [2, 4, 6, 9, 12];
  const i = lens.indexOf(code.length);
  return i > 0 ? code.slice(0, lens[i - 1]) : '';
}

function parentName(task, code) {
  const step = (task.chain || []).find((s) => s.unit.code === code);
  return step ? step.unit.name : code;
}

// comments is the task's discussion: the messages in order, a form to post
// one mentioning people who see the task, and a delete button on one's own
// for the first minutes.
function comments(task, extra, reload) {
  const me = session.user?.id;
  const items = extra.comments.items || [];
  const within = (extra.comments.delete_within_seconds || 0) * 1000;
  const body = h('textarea', { rows: 3, maxlength: 2000 });
  const mention = h('select', { multiple: true, size: 4 }, extra.people.filter((p) => p.id !== me).map((p) => h('option', { value: String(p.id) }, `${p.name}（${p.unit.name}）`)));
  let key = idemKey();
  const form = h('form', { class: 'comment-form', id: 'form-comment', novalidate: true },
    field(t('commentBody'), body, { name: 'body', required: true }),
    extra.people.length ? field(t('commentMention'), mention, { name: 'mentions', optional: true }) : null,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('commentBtn'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    await busy(form, async () => {
      try {
        await api(taskPath(task.id, '/comments'), { method: 'POST', idem: key,
          json: { body: body.value.trim(), mentions: [...mention.selectedOptions].map((o) => Number(o.value)) } });
        key = idemKey();
        toast(t('commentPosted'), 'ok');
        await reload();
      } catch (err) {
        showFormError(form, err);
      }
    });
  });
  return h('section', { class: 'card comments', 'aria-labelledby': 'cm-title' },
    h('h2', { id: 'cm-title' }, t('commentsTitle')),
    items.length ? h('ol', { class: 'comment-list' }, items.map((c) => {
      const mine = c.author_id === me && !c.deleted && Date.now() - Date.parse(c.created_at) < within;
      const del = mine ? h('button', { type: 'button', class: 'btn-link small' }, t('commentDelete')) : null;
      del?.addEventListener('click', async () => {
        del.disabled = true;
        try { await api(taskPath(task.id, `/comments/${c.id}`), { method: 'DELETE' }); await reload(); } catch (err) { toast(err.message, 'error'); del.disabled = false; }
      });
      return h('li', { class: 'comment', dataset: { id: c.id } },
        h('p', { class: 'small muted' }, `${c.author_name} · ${fmtDateTime(c.created_at)}`, del ? [' ', del] : null),
        h('p', { class: c.deleted ? 'muted' : 'comment-body' }, c.deleted ? t('commentDeleted') : c.body));
    })) : h('p', { class: 'muted' }, t('noComments')),
    form);
}

function decideExtensionForm(task, reload) {
  const reason = h('textarea', { rows: 2, maxlength: 1000 });
  return actionForm({
    title: t('decideExtTitle'), id: 'form-extension-decision', cls: 'emphasis',
    fields: [
      task.extension ? h('p', null, t('extensionDetail', { date: fmtDate(task.extension.new_due), reason: task.extension.reason, who: task.extension.requested_by, unit: task.extension.decider?.name || '' })) : null,
      field(t('reasonLabel'), reason, { name: 'reason' })],
    buttons: [
      h('button', { type: 'submit', class: 'btn btn-primary', value: 'yes' }, t('grant')),
      h('button', { type: 'submit', class: 'btn btn-danger', value: 'no' }, t('refuse'))],
    send: async (key, which) => {
      await api(taskPath(task.id, '/extension/decision'), { method: 'POST', idem: key, json: { approve: which === 'yes', reason: reason.value.trim() } });
      return { after: reload };
    },
    done: t('extensionDecided'),
  });
}

function cancelForm(task, reload) {
  const reason = h('textarea', { rows: 2, maxlength: 1000 });
  return actionForm({
    title: t('cancelTitle'), id: 'form-cancel', cls: 'secondary danger-zone',
    fields: [h('p', { class: 'hint' }, t('cancelHint')), field(t('reasonLabel'), reason, { name: 'reason', required: true })],
    buttons: [h('button', { type: 'submit', class: 'btn btn-danger' }, t('cancelBtn'))],
    send: async (key) => {
      await api(taskPath(task.id, '/cancel'), { method: 'POST', idem: key, json: { reason: reason.value.trim() } });
      return { after: reload };
    },
    done: t('cancelled'),
  });
}

