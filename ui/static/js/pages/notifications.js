// 通知: the inbox, newest first; unread ones marked; mark one or all read.
// New notifications arrive live on the event stream (the shell keeps it
// open) and are added at the top.
// Calls: GET /notifications[?unread=true], POST /notifications/{id}/read,
// POST /notifications/read {"all": true}.
import { api, qs } from '../api.js';
import { t, label } from '../i18n.js';
import { h, fmtDateTime, pageHeader, taskHref, toast, announce, put } from '../dom.js';
import { pagedList } from '../list.js';
import { onBus, setUnread, unreadCount } from '../state.js';

export async function render(main, { query }) {
  const onlyUnread = query.get('unread') === '1';
  const listBox = h('div', { class: 'list-box' });
  const counter = h('p', { class: 'lead', role: 'status' });
  const showCount = () => { counter.textContent = t('unreadCount', { n: unreadCount() }); };
  showCount();
  const list = pagedList({
    container: listBox,
    makeList: () => {
      const ul = h('ul', { class: 'notice-list', id: 'notice-list' });
      return { root: ul, body: ul };
    },
    fetchPage: ({ cursor, limit }) => api(`/notifications${qs({ unread: onlyUnread ? 'true' : '', limit, cursor })}`).then((r) => { setUnread(r.unread_count); return r; }),
    renderItem: (n) => item(n),
    emptyText: t('noNotifications'),
  });
  const only = h('input', { type: 'checkbox', id: 'only-unread', checked: onlyUnread });
  only.addEventListener('change', () => { location.hash = only.checked ? '#/notifications?unread=1' : '#/notifications'; });
  const all = h('button', { type: 'button', class: 'btn', id: 'mark-all' }, t('markAllRead'));
  all.addEventListener('click', async () => {
    all.disabled = true;
    try {
      const r = await api('/notifications/read', { method: 'POST', json: { all: true } });
      setUnread(r.unread_count);
      announce(t('unreadCount', { n: r.unread_count }));
      await list.reload();
    } catch (e) {
      toast(e.message, 'error');
    } finally {
      all.disabled = false;
    }
  });
  put(main, pageHeader(t('notificationsTitle'), null, all), counter,
    h('div', { class: 'check toolbar' }, only, h('label', { for: 'only-unread' }, t('onlyUnread'))), listBox);
  await list.load();
  onBus('notification', (e) => {
    const ul = document.getElementById('notice-list');
    if (ul) ul.prepend(item(e.detail)); else list.reload();
  });
  onBus('unread', showCount);
}

function item(n) {
  const read = !!n.read_at || n.read;
  const li = h('li', { class: ['notice', !read && 'unread', n.urgent && 'urgent'], dataset: { id: n.id } },
    h('div', { class: 'notice-head' },
      !read ? h('span', { class: 'dot', 'aria-hidden': 'true' }) : null,
      h('span', { class: 'tag' }, label('event', n.kind, n.kind_label)),
      n.urgent ? h('span', { class: 'tag tag-bad' }, t('urgent')) : null,
      h('time', { datetime: n.at, class: 'muted small' }, fmtDateTime(n.at))),
    h('p', { class: 'notice-title' }, h('a', { href: taskHref(n.instance_id) }, !read ? h('span', { class: 'sr-only' }, '● ') : null, n.title)),
    n.body ? h('p', { class: 'notice-body' }, n.body) : null);
  if (!read) {
    const btn = markReadButton(n, () => {
      li.classList.remove('unread');
      li.querySelector('.dot')?.remove();
      btn.remove();
    });
    li.append(btn);
  }
  return li;
}

// markReadButton is the 标为已读 button of one notification (here and in
// the reminders beside 我的待办): it marks it read, updates the bell, then
// calls done.
export function markReadButton(n, done) {
  const btn = h('button', { type: 'button', class: 'btn-link small', 'aria-label': `${t('markRead')}：${n.title}` }, t('markRead'));
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      const r = await api(`/notifications/${n.id}/read`, { method: 'POST' });
      setUnread(r.unread_count);
      done();
    } catch (e) {
      toast(e.message, 'error');
      btn.disabled = false;
    }
  });
  return btn;
}
