// 我的待办: the official's open tasks, most urgent (nearest deadline)
// first, each with a live countdown and a traffic light; filters; the
// unread reminders beside the list. A supervisor reaches the same page for
// another unit from the board (#/tasks?unit=430102&subtree=1).
// Calls: GET /tasks, GET /plans, GET /plans/{id}, GET /units/{code},
// GET /notifications?unread=true, POST /notifications/{id}/read.
import { api, qs, session } from '../api.js';
import { t, label } from '../i18n.js';
import { h, field, taskLight, countdown, fmtDate, fmtDateTime, pageHeader, taskHref, empty, errorBox, showFormError, put } from '../dom.js';
import { pagedList } from '../list.js';
import { every, onBus, setUnread } from '../state.js';
import { planYears, sections } from '../plans-cache.js';
import { markReadButton } from './notifications.js';

export async function render(main, { query }) {
  const me = session.user;
  const unitCode = query.get('unit') || '';
  const subtree = query.get('subtree') === '1';
  const status = query.get('status') || 'open';
  const section = query.get('section') || '';
  const overdue = query.get('overdue') === '1';
  const dueBefore = query.get('due_before') || '';

  let unitName = me.unit?.name || '';
  if (unitCode && unitCode !== me.unit?.code) {
    const u = await api(`/units/${encodeURIComponent(unitCode)}`);
    unitName = u.name;
  }
  const years = await planYears().catch(() => []);
  const planId = years[0]?.plan_id;
  const secs = await sections(planId).catch(() => []);

  const title = unitCode && unitCode !== me.unit?.code ? t('unitTasksTitle', { unit: unitName }) : t('tasksTitle');
  const listBox = h('div', { class: 'list-box', 'aria-live': 'polite' }, h('p', { class: 'muted' }, t('loading')));
  const remindersBox = h('div', { class: 'reminders' }, h('p', { class: 'muted' }, t('loading')));

  const filters = filterForm({ status, section, overdue, dueBefore, secs, unitCode, subtree });

  const list = pagedList({
    container: listBox,
    makeList: () => {
      const ul = h('ul', { class: 'task-list', 'aria-label': title });
      return { root: ul, body: ul };
    },
    fetchPage: ({ cursor, limit }) => api(`/tasks${qs({
      status: status === 'all' ? '' : status, section, overdue: overdue ? 'true' : '', due_before: dueBefore,
      unit: unitCode, subtree: subtree ? 'true' : '', limit, cursor,
    })}`).catch((e) => {
      if (e.status === 422) showFormError(filters, e);
      throw e;
    }),
    renderItem: taskRow,
    emptyText: () => (status === 'open' && !section && !overdue && !dueBefore ? t('noOpenTasks') : t('noTasks')),
  });

  put(main, 
    pageHeader(title, t('tasksLead', { unit: unitName })),
    // On a phone the filters fold away unless one is in use.
    h('details', { class: 'filters-fold', open: window.matchMedia('(min-width: 761px)').matches || status !== 'open' || !!section || overdue || !!dueBefore },
      h('summary', null, t('filters')), filters),
    h('div', { class: 'with-aside' },
      h('section', { class: 'main-col', 'aria-labelledby': 'page-title' }, listBox),
      h('aside', { class: 'aside card', 'aria-labelledby': 'reminders-title' },
        h('h2', { id: 'reminders-title' }, t('unreadReminders')), remindersBox,
        h('p', null, h('a', { href: '#/notifications' }, t('allNotifications'))))));

  const loadReminders = async () => {
    try {
      const r = await api('/notifications?unread=true&limit=5');
      setUnread(r.unread_count);
      if (!r.items.length) {
        put(remindersBox, empty(t('noReminders')));
        return;
      }
      put(remindersBox, h('ul', { class: 'reminder-list' }, r.items.map((n) => reminderItem(n, loadReminders))));
    } catch (e) {
      put(remindersBox, errorBox(e));
    }
  };
  await Promise.all([list.load(), loadReminders()]);

  // The list follows the workflows: a notification (a reminder, an overdue
  // notice, a decision) re-reads it at once, and it is re-read every minute.
  let pending = null;
  onBus('notification', () => {
    clearTimeout(pending);
    pending = setTimeout(() => { list.reload(); loadReminders(); }, 300);
  });
  every(60_000, () => { list.reload(); loadReminders(); });
}

export function taskRow(task) {
  const progress = task.progress_base > 0 ? `${task.progress}/${task.progress_base}` : (task.progress ? String(task.progress) : '');
  const finished = task.status === 'completed' || task.status === 'cancelled';
  return h('li', { class: 'task-row', dataset: { rowLight: task.light, id: task.id } },
    h('div', { class: 'tr-light' }, taskLight(task)),
    h('div', { class: 'tr-main' },
      h('a', { class: 'tr-title', href: taskHref(task.id) }, task.title),
      h('p', { class: 'tr-meta' },
        h('span', { class: 'tpl-id' }, task.template_id), ' ',
        h('span', null, task.section_title || ''),
        task.period_label ? h('span', null, ` · ${task.period_label}`) : null,
        h('span', null, ` · ${task.unit?.name || ''}`)),
      h('p', { class: 'tr-tags' },
        h('span', { class: `status status-${task.status}` }, label('status', task.status, task.status_label)),
        task.status === 'submitted' && task.approver_unit
          ? h('span', { class: 'tag' }, `${t('stepOf', { s: task.current_step, n: task.step_count })} · ${t('waitingOn', { unit: task.approver_unit.name })}`) : null,
        task.returned ? h('span', { class: 'tag tag-bad returned-tag' }, t('rejectedTag')) : null,
        task.extension_pending ? h('span', { class: 'tag tag-warn' }, t('extensionTag')) : null,
        task.assignee ? h('span', { class: 'tag assignee-tag' }, t('assigneeTag', { name: task.assignee.name })) : null,
        task.urge_count ? h('span', { class: 'tag tag-urged urged-tag', title: fmtDateTime(task.last_urged_at) }, t('urgedTimes', { n: task.urge_count, at: fmtDateTime(task.last_urged_at) })) : null,
        progress ? h('span', { class: 'tag' }, `${t('progress')} ${progress}`) : null),
      // Sent back: why, on the row, so the official sees it without opening the task.
      task.returned && task.last_reason
        ? h('p', { class: 'tr-reason small', title: task.last_reason }, t('returnedBy', { reason: task.last_reason })) : null),
    h('div', { class: 'tr-due' },
      finished ? h('span', { class: 'muted' }, fmtDateTime(task.completed_at || task.updated_at)) : countdown(task.due),
      h('span', { class: 'muted small' }, `${t('colDue')} ${fmtDate(task.due)}`)));
}

function reminderItem(n, reload) {
  const btn = markReadButton(n, reload);
  return h('li', { class: ['reminder', n.urgent && 'urgent'] },
    h('a', { href: taskHref(n.instance_id) }, n.title),
    h('p', { class: 'small muted' }, `${label('event', n.kind, n.kind_label)} · ${fmtDateTime(n.at)}`),
    btn);
}

function filterForm({ status, section, overdue, dueBefore, secs, unitCode, subtree }) {
  const st = h('select', { name: 'status' },
    [['open', t('stOpen')], ['assigned', label('status', 'assigned')], ['in_progress', label('status', 'in_progress')],
      ['submitted', label('status', 'submitted')], ['finished', t('stFinished')], ['all', t('stAll')]]
      .map(([v, l]) => h('option', { value: v, selected: v === status }, l)));
  const sec = h('select', { name: 'section' }, h('option', { value: '' }, t('all')),
    secs.map((s) => h('option', { value: s.id, selected: s.id === section }, `${s.id}. ${s.title}`)));
  const od = h('input', { type: 'checkbox', name: 'overdue', id: 'f-overdue', checked: overdue });
  const db = h('input', { type: 'date', name: 'due_before', value: dueBefore });
  const form = h('form', { class: 'filters card', role: 'search', 'aria-label': t('filters') },
    field(t('fStatus'), st, { name: 'status' }),
    field(t('fSection'), sec, { name: 'section' }),
    field(t('fDueBefore'), db, { name: 'due_before' }),
    h('div', { class: 'check' }, od, h('label', { for: 'f-overdue' }, t('fOverdue'))),
    h('div', { class: 'filter-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, t('apply')),
      h('a', { class: 'btn', href: unitCode ? `#/tasks?unit=${unitCode}${subtree ? '&subtree=1' : ''}` : '#/tasks' }, t('reset'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    if (unitCode) p.set('unit', unitCode);
    if (subtree) p.set('subtree', '1');
    if (st.value !== 'open') p.set('status', st.value);
    if (sec.value) p.set('section', sec.value);
    if (od.checked) p.set('overdue', '1');
    if (db.value) p.set('due_before', db.value);
    const s = p.toString();
    location.hash = `#/tasks${s ? `?${s}` : ''}`;
  });
  return form;
}
