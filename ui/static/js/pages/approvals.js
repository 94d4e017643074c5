// 待我审批: the approval steps (and extension requests) waiting on the
// approver's unit, nearest approval limit first, each with its SLA
// counting down; approve or return with a reason; select several and
// approve them together.
// Calls: GET /approvals[?kind=extension], POST /tasks/{id}/decision,
// POST /tasks/{id}/extension/decision, POST /approvals/bulk.
import { api, qs, taskPath, session } from '../api.js';
import { t, label } from '../i18n.js';
import { h, icon, field, countdown, fmtDate, fmtDateTime, pageHeader, taskHref, toast, announce, showFormError, clearErrors, busy, idemKey, put } from '../dom.js';
import { pagedList, table, cell } from '../list.js';
import { every, onBus } from '../state.js';

export async function render(main, { query }) {
  const kind = query.get('kind') === 'extension' ? 'extension' : 'step';
  const unit = session.user.unit?.name || '';
  const selected = new Map(); // instance id → step
  const listBox = h('div', { class: 'list-box' }, h('p', { class: 'muted' }, t('loading')));
  const count = h('span', { class: 'sel-count', role: 'status', 'aria-live': 'polite' }, t('selected', { n: 0 }));
  const bulkReason = h('input', { type: 'text', maxlength: 1000 });
  const bulkBtn = h('button', { type: 'submit', class: 'btn btn-primary', disabled: true, id: 'bulk-approve' }, icon('approve'), t('bulkApprove'));
  const bulkResult = h('div', { class: 'bulk-result' });
  let bulkKey = idemKey();
  const bulk = h('form', { class: 'bulk-bar card', 'aria-label': t('bulkApprove'), novalidate: true },
    count, field(t('bulkReason'), bulkReason, { name: 'reason', optional: true, class: 'inline' }), bulkBtn);
  const updateSel = () => {
    count.textContent = t('selected', { n: selected.size });
    bulkBtn.disabled = selected.size === 0;
    const all = listBox.querySelector('#select-all');
    if (all) {
      const boxes = [...listBox.querySelectorAll('input[data-select]')];
      all.checked = boxes.length > 0 && boxes.every((b) => b.checked);
      all.indeterminate = !all.checked && boxes.some((b) => b.checked);
    }
  };

  const dialog = rejectDialog(async () => { await list.reload(); });

  const list = pagedList({
    container: listBox,
    makeList: () => {
      const all = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': t('selectAll') });
      all.addEventListener('change', () => {
        const on = all.checked;
        for (const b of listBox.querySelectorAll('input[data-select]')) {
          b.checked = on;
          b.dispatchEvent(new Event('change'));
        }
      });
      const cols = kind === 'step'
        ? [{ node: all, class: 'col-check' }, t('colTask'), t('colSubmittedUnit'), t('colStep'), t('colSla'), t('colDue'), '']
        : [t('colTask'), t('colSubmittedUnit'), t('colDue'), t('colNewDue'), t('colExtReason'), t('colRequestedBy'), ''];
      selected.clear();
      updateSel();
      return table(kind === 'step' ? t('tabSteps') : t('tabExtensions'), cols, 'approvals');
    },
    fetchPage: ({ cursor, limit }) => api(`/approvals${qs({ kind: kind === 'extension' ? 'extension' : '', limit, cursor })}`),
    renderItem: (task) => (kind === 'step' ? stepRow(task, selected, updateSel, dialog, () => list.reload()) : extensionRow(task)),
    emptyText: () => (kind === 'step' ? t('noApprovals') : t('noExtensions')),
  });

  bulk.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(bulk);
    if (!selected.size) return;
    await busy(bulk, async () => {
      try {
        const items = [...selected].map(([instance_id, step]) => ({ instance_id, step }));
        const r = await api('/approvals/bulk', { method: 'POST', idem: bulkKey, json: { items, reason: bulkReason.value.trim() } });
        bulkKey = idemKey();
        const msg = t('bulkDone', { ok: r.approved, failed: r.failed });
        toast(msg, r.failed ? 'warn' : 'ok');
        announce(msg);
        const failed = r.results.filter((x) => x.status !== 200);
        put(bulkResult, failed.length ? h('div', { class: 'alert alert-warn', role: 'alert' },
          h('p', null, msg), h('ul', null, failed.map((x) => h('li', null, `${x.instance_id}：${x.error?.detail || x.error?.title || x.status}`)))) : '');
        bulkReason.value = '';
        await list.reload();
      } catch (err) {
        if (err.status !== 0) bulkKey = idemKey();
        showFormError(bulk, err);
      }
    });
  });

  const tabs = h('nav', { class: 'tabs', 'aria-label': t('approvalsTitle') },
    h('a', { href: '#/approvals', 'aria-current': kind === 'step' ? 'page' : null }, t('tabSteps')),
    h('a', { href: '#/approvals?kind=extension', 'aria-current': kind === 'extension' ? 'page' : null }, t('tabExtensions')));

  put(main, pageHeader(t('approvalsTitle'), t('approvalsLead', { unit })), tabs,
    kind === 'step' ? bulk : null, bulkResult, listBox, dialog.el, delegations());
  await list.load();
  onBus('notification', () => list.reload());
  every(60_000, () => list.reload());
}

// delegations is the 委托 panel: an approver away lets a colleague of the
// same unit, or an approver of the unit above, decide their steps for a
// range of days; both see the delegation here.
function delegations() {
  const list = h('div', { class: 'delegation-list' }, h('p', { class: 'muted' }, t('loading')));
  const who = h('select', null);
  const from = h('input', { type: 'date' });
  const to = h('input', { type: 'date' });
  const reason = h('input', { type: 'text', maxlength: 1000 });
  const form = h('form', { class: 'delegation-form', id: 'form-delegation', novalidate: true },
    field(t('delegateTo'), who, { name: 'delegate_id', required: true }),
    field(t('startsOn'), from, { name: 'starts_on', required: true }),
    field(t('endsOn'), to, { name: 'ends_on', required: true }),
    field(t('reasonLabel'), reason, { name: 'reason', optional: true }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn' }, t('delegateBtn'))));
  const load = async () => {
    const [people, mine] = await Promise.all([api('/me/delegates'), api('/me/delegations')]);
    put(who, people.items.map((p) => h('option', { value: String(p.id) }, `${p.name}（${p.unit.name}）`)));
    put(list, mine.items.length ? h('ul', null, mine.items.map((d) => {
      const revoke = !d.revoked_at && d.user_id === session.user?.id ? h('button', { type: 'button', class: 'btn-link small' }, t('revoke')) : null;
      revoke?.addEventListener('click', async () => {
        try { await api(`/me/delegations/${d.id}`, { method: 'DELETE' }); await load(); } catch (e) { toast(e.message, 'error'); }
      });
      return h('li', { dataset: { id: d.id } }, t('delegationItem', { from: d.user_name, to: d.delegate_name, start: fmtDate(d.starts_on), end: fmtDate(d.ends_on) }),
        d.reason ? `（${d.reason}）` : '', d.revoked_at ? t('delegationRevoked') : '', revoke ? [' ', revoke] : null);
    })) : h('p', { class: 'muted' }, t('noDelegations')));
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    await busy(form, async () => {
      try {
        await api('/me/delegations', { method: 'POST', json: { delegate_id: Number(who.value) || 0, starts_on: from.value || null, ends_on: to.value || null, reason: reason.value.trim() } });
        toast(t('delegated'), 'ok');
        announce(t('delegated'));
        await load();
      } catch (err) {
        showFormError(form, err);
      }
    });
  });
  load().catch((e) => put(list, h('p', { class: 'muted' }, e.message)));
  return h('section', { class: 'card delegations', 'aria-labelledby': 'dl-title' },
    h('h2', { id: 'dl-title' }, t('delegationsTitle')), h('p', { class: 'muted' }, t('delegationsLead')), list, form);
}

function stepRow(task, selected, updateSel, dialog, reload) {
  const box = h('input', { type: 'checkbox', dataset: { select: task.id }, 'aria-label': t('selectRow', { title: `${task.title}（${task.unit.name}）` }) });
  box.addEventListener('change', () => {
    if (box.checked) selected.set(task.id, task.current_step); else selected.delete(task.id);
    box.closest('tr').classList.toggle('is-selected', box.checked);
    updateSel();
  });
  const approve = h('button', { type: 'button', class: 'btn btn-sm btn-primary', 'data-action': 'approve', 'aria-label': `${t('approve')}：${task.title}（${task.unit.name}）` }, t('approve'));
  let key = idemKey();
  approve.addEventListener('click', async () => {
    approve.disabled = true;
    try {
      await api(taskPath(task.id, '/decision'), { method: 'POST', idem: key, json: { step: task.current_step, approve: true, reason: '' } });
      key = idemKey();
      toast(`${t('approved')} ${task.title}`, 'ok');
      announce(t('approved'));
      await reload();
    } catch (e) {
      if (e.status !== 0) key = idemKey();
      toast(e.message, 'error');
      approve.disabled = false;
    }
  });
  const reject = h('button', { type: 'button', class: 'btn btn-sm btn-danger', 'data-action': 'reject', 'aria-label': `${t('reject')}：${task.title}（${task.unit.name}）` }, t('reject'));
  reject.addEventListener('click', () => dialog.open(task, reject));
  return h('tr', { dataset: { id: task.id } },
    h('td', { class: 'col-check' }, box),
    cell(t('colTask'), h('a', { href: taskHref(task.id) }, task.title), h('span', { class: 'muted small block' }, `${task.template_id} · ${task.section_title || ''}`)),
    cell(t('colSubmittedUnit'), task.unit.name),
    cell(t('colStep'), t('stepOf', { s: task.current_step, n: task.step_count }),
      task.waiting_for ? h('span', { class: 'muted small block' }, t('handedTo', { name: task.waiting_for.name })) : null,
      task.joint_step && task.waiting_units?.length ? h('span', { class: 'muted small block' }, t('waitingSigners', { names: task.waiting_units.map((u) => u.name).join('、') })) : null),
    cell(t('colSla'), task.step_due ? countdown(task.step_due) : ''),
    cell(t('colDue'), fmtDate(task.due)),
    h('td', { class: 'row-actions' }, approve, reject));
}

// extensionRow: the request as asked (the new deadline, how much later,
// why, who and when); it is decided on the task page, where the work so
// far can be seen.
function extensionRow(task) {
  const ext = task.extension;
  const later = ext ? Math.round((new Date(ext.new_due) - new Date(task.due)) / 86_400_000) : 0;
  return h('tr', { dataset: { id: task.id } },
    cell(t('colTask'), h('a', { href: taskHref(task.id) }, task.title),
      h('span', { class: 'muted small block' }, `${task.template_id} · ${task.section_title || ''} · ${label('status', task.status, task.status_label)}`)),
    cell(t('colSubmittedUnit'), task.unit.name),
    cell(t('colDue'), fmtDate(task.due)),
    cell(t('colNewDue'), ext ? h('span', { class: 'ext-new-due' }, fmtDate(ext.new_due)) : '',
      later > 0 ? h('span', { class: 'muted small block' }, t('extLater', { n: later })) : null),
    cell(t('colExtReason'), ext ? h('span', { class: 'ext-reason' }, ext.reason) : ''),
    cell(t('colRequestedBy'), ext ? h('span', { class: 'ext-requester' }, ext.requested_by) : '',
      ext?.requested_at ? h('span', { class: 'muted small block' }, fmtDateTime(ext.requested_at)) : null),
    h('td', { class: 'row-actions' }, h('a', { class: 'btn btn-sm btn-primary', href: taskHref(task.id) }, t('decideExtTitle'))));
}

// rejectDialog asks for the reason before a step is returned; the API's
// field error (a reason is required) shows under the field.
function rejectDialog(after) {
  const reason = h('textarea', { rows: 4, maxlength: 1000, required: true });
  const heading = h('h2', { id: 'reject-title' });
  const form = h('form', { novalidate: true, class: 'dialog-form' },
    heading, field(t('rejectReason'), reason, { name: 'reason', required: true, hint: t('reasonHint') }),
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn btn-danger', id: 'reject-confirm' }, t('reject')),
      h('button', { type: 'button', class: 'btn', onclick: () => el.close() }, t('cancel'))));
  const el = h('dialog', { class: 'dialog', 'aria-labelledby': 'reject-title' }, form);
  let current = null;
  let opener = null;
  let key = idemKey();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    await busy(form, async () => {
      try {
        await api(taskPath(current.id, '/decision'), { method: 'POST', idem: key, json: { step: current.current_step, approve: false, reason: reason.value.trim() } });
        key = idemKey();
        toast(`${t('rejected')} ${current.title}`, 'ok');
        announce(t('rejected'));
        el.close();
        await after();
      } catch (err) {
        if (err.status !== 0) key = idemKey();
        showFormError(form, err);
      }
    });
  });
  el.addEventListener('close', () => { opener?.focus?.(); });
  return {
    el,
    open(task, from) {
      current = task;
      opener = from;
      key = idemKey();
      heading.textContent = t('rejectDialog', { title: `${task.title}（${task.unit.name}）` });
      reason.value = '';
      clearErrors(form);
      el.showModal();
      reason.focus();
    },
  };
}
