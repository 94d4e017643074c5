// 审计: the audit trail of objects under the caller's unit, newest first,
// filtered by unit, task, user, action and dates; each row shows its hash
// (the rows are chained).
// Calls: GET /audit.
import { api, qs, session } from '../api.js';
import { t, label } from '../i18n.js';
import { h, field, fmtDateTime, pageHeader, taskHref, showFormError, clearErrors, put } from '../dom.js';
import { pagedList, table, cell } from '../list.js';

const actions = [
  ['task.progress', '报告进展', 'Progress'], ['task.submitted', '提交审批', 'Submitted'], ['task.approved', '审批通过', 'Approved'],
  ['task.rejected', '退回修改', 'Returned'], ['task.completed', '办结', 'Completed'], ['task.extension_requested', '申请延期', 'Extension requested'],
  ['task.extension_granted', '同意延期', 'Extension granted'], ['task.extension_refused', '不同意延期', 'Extension refused'],
  ['task.cancelled', '撤销', 'Cancelled'], ['plan.import', '导入计划', 'Plan imported'], ['plan.launch', '下达计划', 'Plan launched'],
  ['user.create', '新增用户', 'User added'], ['user.update', '修改用户', 'User changed'], ['user.password', '修改密码', 'Password changed'],
  ['unit.create', '新增单位', 'Unit added'], ['unit.rename', '单位更名', 'Unit renamed'],
];

export async function render(main, { query }) {
  const me = session.user;
  const q = Object.fromEntries(['unit', 'instance', 'actor', 'action', 'from', 'to'].map((k) => [k, query.get(k) || '']));
  const isEn = document.documentElement.lang === 'en';
  const unit = h('input', { type: 'text', inputmode: 'numeric', value: q.unit, placeholder: me.unit.code, pattern: '[0-9]*' });
  const instance = h('input', { type: 'text', value: q.instance, placeholder: '2021/2.1/430102' });
  const actor = h('input', { type: 'text', value: q.actor, autocomplete: 'off', spellcheck: 'false' });
  const action = h('select', null, h('option', { value: '' }, t('all')),
    actions.map(([v, zh, en]) => h('option', { value: v, selected: v === q.action }, isEn ? en : zh)));
  const from = h('input', { type: 'date', value: q.from });
  const to = h('input', { type: 'date', value: q.to });
  const form = h('form', { class: 'filters card', role: 'search', 'aria-label': t('filters'), novalidate: true },
    field(t('fUnit'), unit, { name: 'unit' }), field(t('fInstance'), instance, { name: 'instance' }),
    field(t('fActor'), actor, { name: 'actor', hint: t('fActorHint') }), field(t('fAction'), action, { name: 'action' }),
    field(t('fFrom'), from, { name: 'from' }), field(t('fTo'), to, { name: 'to' }),
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('apply')),
      h('a', { class: 'btn', href: '#/audit' }, t('reset'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const [k, el] of Object.entries({ unit, instance, actor, action, from, to })) if (el.value.trim()) p.set(k, el.value.trim());
    location.hash = `#/audit${p.toString() ? `?${p}` : ''}`;
  });

  const listBox = h('div', { class: 'list-box' });
  const list = pagedList({
    container: listBox,
    makeList: () => table(t('auditTitle'), [t('colTime'), t('colActor'), t('colAction'), t('colObject'), t('colDetail'), t('colHash')], 'audit'),
    fetchPage: ({ cursor, limit }) => api(`/audit${qs({ ...q, limit, cursor })}`).then((r) => { clearErrors(form); return r; }).catch((err) => {
      // A task or unit outside the caller's scope is 404, like a missing one.
      if (err.status === 404 && !err.errors.length) err.errors = [{ field: q.instance ? 'instance' : 'unit', message: err.message }];
      if (err.status === 404 || err.status === 422) showFormError(form, err);
      throw err;
    }),
    renderItem: row,
    emptyText: t('noAudit'),
  });
  put(main, pageHeader(t('auditTitle'), t('auditLead', { unit: me.unit.name })), form, listBox);
  await list.load();
}

// What an audit row's detail says, in words: known keys with their
// labels, the rest as they are.
const detailKeys = {
  plan_id: 'dPlan', year: 'dYear', templates: 'dTemplates', launch_id: 'dLaunch', step: 'dStep', reason: 'dReason', note: 'dNote',
  new_due: 'dNewDue', evidence: 'dEvidence', progress: 'dProgress', from: 'dFrom', to: 'dTo', plan_at: 'dPlanAt',
};
function detailText(d) {
  if (!d || typeof d !== 'object') return d ? String(d) : '';
  const parts = [];
  for (const [k, v] of Object.entries(d)) {
    if (k === 'seq' || v == null || v === '') continue;
    let val = v;
    if (k === 'from' || k === 'to') val = label('status', v);
    else if (k === 'plan_at' || k === 'new_due') val = fmtDateTime(v);
    else if (k === 'evidence' && Array.isArray(v)) val = t('dFiles', { n: v.length });
    else if (Array.isArray(v)) val = v.join('、');
    else if (typeof v === 'object') val = JSON.stringify(v);
    parts.push(`${detailKeys[k] ? t(detailKeys[k]) : k}：${val}`);
  }
  return parts.join(' · ');
}

function row(a) {
  const detail = detailText(a.detail);
  return h('tr', { dataset: { id: a.id } },
    cell(t('colTime'), h('time', { datetime: a.at }, fmtDateTime(a.at))),
    cell(t('colActor'), a.actor_name, a.actor_unit ? h('span', { class: 'muted small block' }, a.actor_unit) : null),
    cell(t('colAction'), a.action_label || a.action),
    cell(t('colObject'), a.instance_id ? h('a', { href: taskHref(a.instance_id) }, a.instance_id) : (a.unit_code || '')),
    cell(t('colDetail'), detail ? h('span', { class: 'detail' }, detail.length > 200 ? `${detail.slice(0, 200)}…` : detail) : ''),
    cell(t('colHash'), h('code', { class: 'hash', title: a.hash }, (a.hash || '').slice(0, 10))));
}
