// 投递记录: what was sent to the people of the admin's units on email,
// work groups, DingTalk, WeCom and SMS, newest first; filtered by status,
// person, channel and task. A failed row has a 重试 button that puts it
// back in the queue (the next tick of the digest workflow sends it).
// Calls: GET /deliveries, POST /deliveries/{id}/retry.
import { api, qs } from '../api.js';
import { lang } from '../i18n.js';
import { h, field, fmtDateTime, pageHeader, taskHref, showFormError, clearErrors, toast, put } from '../dom.js';
import { pagedList, table, cell } from '../list.js';

const L = {
  zh: {
    title: '投递记录', lead: '发往本单位及下级单位人员的邮件、工作群、钉钉、企业微信和短信，最新的在前。发送失败的可以重试。',
    status: '状态', person: '人员', personHint: '用户名或用户编号', channel: '渠道', task: '任务', apply: '应用', reset: '重置', all: '全部',
    sent: '已发送', failed: '发送失败', retrying: '重试中', waiting: '等待发送', skipped: '未配置，已跳过',
    email: '邮件', webhook: '工作群', dingtalk: '钉钉工作通知', wecom: '企业微信应用消息', sms: '短信',
    colTime: '时间', colPerson: '接收人', colChannel: '渠道', colNotice: '通知', colStatus: '状态', colError: '原因', colAction: '操作',
    retry: '重试', retried: '已重新排队，稍后发送', attempts: '已尝试 {n} 次', none: '没有符合条件的投递记录。',
  },
  en: {
    title: 'Deliveries', lead: 'Email, work-group, DingTalk, WeCom and SMS messages to the people of your units, newest first. Failed ones can be retried.',
    status: 'Status', person: 'Person', personHint: 'Username or user id', channel: 'Channel', task: 'Task', apply: 'Apply', reset: 'Reset', all: 'All',
    sent: 'Sent', failed: 'Failed', retrying: 'Retrying', waiting: 'Waiting', skipped: 'Skipped',
    email: 'Email', webhook: 'Work group', dingtalk: 'DingTalk', wecom: 'WeCom', sms: 'SMS',
    colTime: 'Time', colPerson: 'To', colChannel: 'Channel', colNotice: 'Notice', colStatus: 'Status', colError: 'Reason', colAction: 'Action',
    retry: 'Retry', retried: 'Queued again; it goes out shortly', attempts: '{n} attempts', none: 'No deliveries match.',
  },
};
const tr = (k, vars = {}) => (lang() === 'en' ? L.en : L.zh)[k].replace(/\{(\w+)\}/g, (_, x) => String(vars[x] ?? ''));

const statuses = ['failed', 'retrying', 'waiting', 'sent', 'skipped'];
const channels = ['email', 'webhook', 'dingtalk', 'wecom', 'sms'];

export async function render(main, { query }) {
  const q = Object.fromEntries(['status', 'user', 'channel', 'task'].map((k) => [k, query.get(k) || '']));
  const status = h('select', { id: 'dl-status' }, h('option', { value: '' }, tr('all')),
    statuses.map((s) => h('option', { value: s, selected: s === q.status }, tr(s))));
  const user = h('input', { type: 'text', id: 'dl-user', value: q.user, autocomplete: 'off', spellcheck: 'false' });
  const channel = h('select', { id: 'dl-channel' }, h('option', { value: '' }, tr('all')),
    channels.map((c) => h('option', { value: c, selected: c === q.channel }, tr(c))));
  const task = h('input', { type: 'text', id: 'dl-task', value: q.task, placeholder: '2021/2.1/430102' });
  const form = h('form', { class: 'filters card', role: 'search', 'aria-label': tr('title'), novalidate: true },
    field(tr('status'), status, { name: 'status' }), field(tr('person'), user, { name: 'user', hint: tr('personHint') }),
    field(tr('channel'), channel, { name: 'channel' }), field(tr('task'), task, { name: 'task' }),
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, tr('apply')),
      h('a', { class: 'btn', href: '#/deliveries' }, tr('reset'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const [k, el] of Object.entries({ status, user, channel, task })) if (el.value.trim()) p.set(k, el.value.trim());
    location.hash = `#/deliveries${p.toString() ? `?${p}` : ''}`;
  });

  const listBox = h('div', { class: 'list-box' });
  const list = pagedList({
    container: listBox,
    makeList: () => table(tr('title'), [tr('colTime'), tr('colPerson'), tr('colChannel'), tr('colNotice'), tr('colStatus'), tr('colError'), tr('colAction')], 'deliveries'),
    fetchPage: ({ cursor, limit }) => api(`/deliveries${qs({ ...q, limit, cursor })}`).then((r) => { clearErrors(form); return r; }).catch((err) => {
      if (err.status === 404 && !(err.errors || []).length) err.errors = [{ field: q.task ? 'task' : 'user', message: err.message }];
      if (err.status === 404 || err.status === 422) showFormError(form, err);
      throw err;
    }),
    renderItem: (d) => row(d, () => list.reload()),
    emptyText: tr('none'),
  });
  put(main, pageHeader(tr('title'), tr('lead')), form, listBox);
  await list.load();
}

function row(d, reload) {
  const statusTag = h('span', { class: ['tag', d.status === 'failed' && 'tag-bad', d.status === 'sent' && 'tag-good'], dataset: { status: d.status } },
    d.status_label);
  let action = '';
  if (d.retryable) {
    action = h('button', { type: 'button', class: 'btn btn-small', dataset: { retry: d.id } }, tr('retry'));
    action.addEventListener('click', async () => {
      action.disabled = true;
      try {
        await api(`/deliveries/${d.id}/retry`, { method: 'POST' });
        toast(tr('retried'), 'info');
        await reload();
      } catch (e) {
        toast(e.message, 'error');
        action.disabled = false;
      }
    });
  }
  return h('tr', { dataset: { id: d.id } },
    cell(tr('colTime'), h('time', { datetime: d.created_at }, fmtDateTime(d.created_at))),
    cell(tr('colPerson'), d.display_name, h('span', { class: 'muted small block' }, `${d.username} · ${d.unit_code}`)),
    cell(tr('colChannel'), d.channel_label, h('span', { class: 'muted small block' }, d.target)),
    cell(tr('colNotice'), d.instance_id ? h('a', { href: taskHref(d.instance_id) }, d.title || d.kind_label) : (d.title || d.kind_label),
      h('span', { class: 'muted small block' }, d.kind_label)),
    cell(tr('colStatus'), statusTag, h('span', { class: 'muted small block' }, tr('attempts', { n: d.attempts }))),
    cell(tr('colError'), d.last_error ? h('span', { class: 'detail' }, d.last_error) : ''),
    cell(tr('colAction'), action));
}
