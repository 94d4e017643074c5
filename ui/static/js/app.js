// The shell: header, navigation (top on a desk, bottom on a phone), the
// notification bell fed by the event stream, the plan clock, and a tiny
// hash router (#/tasks, #/tasks/{id}, #/approvals, #/board, #/board/{unit},
// #/scores, #/scores/{unit}, #/notifications, #/audit, #/plans, #/drafts,
// #/login).
import { api, session, signedIn, restore, logout, onSignOut } from './api.js';
import { t, label, lang, setLang } from './i18n.js';
import { h, icon, tick, toast, fmtDateTime, errorBox, put } from './dom.js';
import { planNow, clockInfo, syncClock } from './clock.js';
import { bus, setUnread, unreadCount, stopTimers, dropSubs, hasPerm } from './state.js';
import * as loginPage from './pages/login.js';
import * as tasksPage from './pages/tasks.js';
import * as taskPage from './pages/task.js';
import * as approvalsPage from './pages/approvals.js';
import * as boardPage from './pages/board.js';
import * as notificationsPage from './pages/notifications.js';
import * as auditPage from './pages/audit.js';
import * as plansPage from './pages/plans.js';
import * as planChangesPage from './pages/plan-changes.js';
import * as scoresPage from './pages/scores.js';
import * as draftsPage from './pages/drafts.js';
import * as settingsPage from './pages/settings.js';
import * as deliveriesPage from './pages/deliveries.js';
// Accounts (修改密码, 用户管理, 单位管理, 批量导入账号).
import * as passwordPage from './pages/password.js';
import * as usersPage from './pages/users.js';
import * as unitsPage from './pages/units.js';
import * as usersImportPage from './pages/users-import.js';

// A fault the server answered with 503/504 is being retried (api.js): say
// so, so nobody presses the button again.
window.addEventListener('duban:retrying', (e) => {
  toast(t('retrying', { n: e.detail.n, of: e.detail.of, s: e.detail.wait }), 'warn');
});

// Menus follow GET /me's permissions and roles: an official sees 我的待办,
// an approver 待我审批, a supervisor 督办看板 and 审计, an admin 计划管理
// and 审计; everyone has 通知 (the bell).
const navItems = [
  { href: '#/tasks', key: 'navTasks', icon: 'tasks', show: (u) => hasPerm(u, 'tasks.report') },
  { href: '#/approvals', key: 'navApprovals', icon: 'approve', show: (u) => hasPerm(u, 'approvals') },
  { href: '#/board', key: 'navBoard', icon: 'board', show: (u) => hasPerm(u, 'board') },
  { href: '#/scores', key: 'navScores', icon: 'score', show: (u) => hasPerm(u, 'board') },
  { href: '#/audit', key: 'navAudit', icon: 'audit', show: (u) => hasPerm(u, 'audit') },
  { href: '#/plans', key: 'navPlans', icon: 'plan', show: (u) => hasPerm(u, 'plans') },
  // Accounts.
  { href: '#/users', key: 'navUsers', icon: 'users', show: (u) => hasPerm(u, 'users') },
];

const routes = [
  { re: /^\/tasks$/, page: tasksPage },
  { re: /^\/tasks\/(.+)$/, page: taskPage },
  { re: /^\/approvals$/, page: approvalsPage, allow: (u) => hasPerm(u, 'approvals') },
  { re: /^\/board(?:\/(\d+))?$/, page: boardPage, allow: (u) => hasPerm(u, 'board') },
  { re: /^\/notifications$/, page: notificationsPage },
  { re: /^\/audit$/, page: auditPage, allow: (u) => hasPerm(u, 'audit') },
  { re: /^\/plans$/, page: plansPage, allow: (u) => hasPerm(u, 'plans') },
  { re: /^\/plans\/([^/]+)\/changes$/, page: planChangesPage, allow: (u) => hasPerm(u, 'plans') },
  { re: /^\/scores(?:\/(\d+))?$/, page: scoresPage, allow: (u) => hasPerm(u, 'board') },
  { re: /^\/drafts$/, page: draftsPage, allow: (u) => hasPerm(u, 'plans') },
  { re: /^\/settings$/, page: settingsPage },
  { re: /^\/deliveries$/, page: deliveriesPage, allow: (u) => hasPerm(u, 'deliveries') },
  // Accounts.
  { re: /^\/password$/, page: passwordPage },
  { re: /^\/users$/, page: usersPage, allow: (u) => hasPerm(u, 'users') },
  { re: /^\/units$/, page: unitsPage, allow: (u) => hasPerm(u, 'units') },
  { re: /^\/users\/import$/, page: usersImportPage, allow: (u) => hasPerm(u, 'users') },
];

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');
const bottomNav = document.getElementById('bottom-nav');
let afterLogin = '';
let signOutNote = '';

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  return { path, query: new URLSearchParams(query) };
}

export function home(user = session.user) {
  const first = navItems.find((n) => n.show(user));
  return first ? first.href : '#/notifications';
}

// --- header and navigation ---

function renderShell() {
  const u = session.user;
  if (!u) {
    topbar.hidden = true;
    bottomNav.hidden = true;
    put(topbar);
    put(bottomNav);
    return;
  }
  // An account that must change its password first has no menus.
  const items = u.must_change_password ? [] : navItems.filter((n) => n.show(u));
  const link = (n, cls) => h('a', { href: n.href, class: cls, dataset: { nav: n.href } }, icon(n.icon), h('span', null, n.key ? t(n.key) : n.label[lang()] || n.label.zh));
  const roles = (u.roles || []).map((r) => label('role', r.role, r.label)).join('、');
  put(topbar, 
    h('div', { class: 'brand' },
      h('a', { href: home(), class: 'brand-mark', 'aria-label': `${t('app')} · ${t('appFull')}` }, h('span', { 'aria-hidden': 'true' }, '督')),
      h('div', { class: 'brand-text' }, h('strong', null, t('app')), h('span', null, t('org')))),
    h('nav', { class: 'topnav', 'aria-label': t('mainNav') }, h('ul', null, items.map((n) => h('li', null, link(n))))),
    h('div', { class: 'tools' },
      h('span', { class: 'plan-clock', id: 'plan-clock', title: t('planTime') }),
      bell(),
      h('a', { href: '#/settings', class: 'btn-ghost', id: 'nav-settings', dataset: { nav: '#/settings' }, title: lang() === 'zh' ? '设置' : 'Settings' },
        icon('gear'), h('span', { class: 'hide-narrow' }, lang() === 'zh' ? '设置' : 'Settings')),
      h('button', { type: 'button', class: 'btn-ghost lang-switch', lang: lang() === 'zh' ? 'en' : 'zh-CN', 'aria-label': t('langSwitchLabel'), onclick: switchLang },
        icon('globe'), h('span', { class: 'hide-narrow' }, t('langSwitch')), h('span', { class: 'show-narrow', 'aria-hidden': 'true' }, lang() === 'zh' ? 'EN' : '中')),
      h('div', { class: 'who', 'aria-label': t('account') },
        h('strong', null, u.display_name || u.username), h('span', null, `${u.unit?.name || ''} · ${roles}`)),
      h('a', { href: '#/password', class: 'btn-ghost', id: 'change-password', dataset: { nav: '#/password' }, title: t('navPassword'), 'aria-label': t('navPassword') },
        icon('key')),
      h('button', { type: 'button', class: 'btn-ghost', onclick: () => logout(), 'aria-label': t('signOut'), title: t('signOut') },
        icon('out'), h('span', { class: 'hide-narrow' }, t('signOut')))));
  put(bottomNav, h('ul', null, [...items.map((n) => h('li', null, link(n))),
    h('li', null, h('a', { href: '#/notifications', dataset: { nav: '#/notifications' } }, icon('bell'), h('span', null, t('navNotifications'))))]));
  bottomNav.setAttribute('aria-label', t('mainNav'));
  topbar.hidden = false;
  bottomNav.hidden = false;
  updateClock();
  markCurrent();
}

function bell() {
  const n = unreadCount();
  const a = h('a', { href: '#/notifications', class: 'bell', id: 'bell', dataset: { nav: '#/notifications' },
    'aria-label': n ? t('bellLabel', { n }) : t('bellLabelNone') },
  icon('bell'), h('span', { class: 'bell-count', id: 'bell-count', hidden: n === 0 }, n > 99 ? '99+' : String(n)));
  return a;
}

bus.addEventListener('unread', () => {
  const a = document.getElementById('bell');
  if (!a) return;
  const n = unreadCount();
  const c = document.getElementById('bell-count');
  c.textContent = n > 99 ? '99+' : String(n);
  c.hidden = n === 0;
  a.setAttribute('aria-label', n ? t('bellLabel', { n }) : t('bellLabelNone'));
});

function markCurrent() {
  const { path } = parseHash();
  for (const a of document.querySelectorAll('[data-nav]')) {
    const target = a.dataset.nav.slice(1);
    const on = path === target || path.startsWith(`${target}/`);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

function updateClock() {
  const el = document.getElementById('plan-clock');
  if (!el) return;
  const c = clockInfo();
  put(el, icon('clock'), h('span', null, fmtDateTime(new Date(planNow()).toISOString())),
    c.demo ? h('span', { class: 'demo-tag' }, c.scale !== 1 ? t('planTimeDemo', { scale: Math.round(c.scale) }) : t('planTimeDemoPlain')) : null);
}

function switchLang() {
  setLang(lang() === 'zh' ? 'en' : 'zh');
  renderShell();
  route();
  document.querySelector('.lang-switch')?.focus();
}

// --- notification stream ---

let stream = null;
let streamRetry = 1000;
let streamTimer = null;
let lastEventId = '';

// connectStream opens the event stream with a one-minute ticket (an
// EventSource cannot send the Authorization header). When it drops, a new
// ticket is fetched and the stream resumes after the last notification.
async function connectStream() {
  clearTimeout(streamTimer);
  if (stream) { stream.close(); stream = null; }
  if (!signedIn() || session.user?.must_change_password) return;
  try {
    const { url } = await api('/notifications/stream-ticket', { method: 'POST' });
    const es = new EventSource(lastEventId ? `${url}&last_event_id=${encodeURIComponent(lastEventId)}` : url);
    stream = es;
    es.addEventListener('open', () => { streamRetry = 1000; });
    es.addEventListener('notification', (e) => {
      lastEventId = e.lastEventId || lastEventId;
      let n;
      try { n = JSON.parse(e.data); } catch { return; }
      toast(t('newNotification', { title: n.title }), n.urgent ? 'warn' : 'info');
      bus.dispatchEvent(new CustomEvent('notification', { detail: n }));
    });
    es.addEventListener('unread', (e) => {
      try { setUnread(JSON.parse(e.data).count); } catch { /* ignore */ }
    });
    es.addEventListener('logout', () => { es.close(); logout(); });
    es.addEventListener('error', () => {
      if (stream !== es) return;
      es.close();
      stream = null;
      streamTimer = setTimeout(connectStream, streamRetry);
      streamRetry = Math.min(streamRetry * 2, 30_000);
    });
  } catch (e) {
    if (e.status === 401) return;
    streamTimer = setTimeout(connectStream, streamRetry);
    streamRetry = Math.min(streamRetry * 2, 30_000);
  }
}

function closeStream() {
  clearTimeout(streamTimer);
  if (stream) stream.close();
  stream = null;
  lastEventId = '';
}

// --- routing ---

let renderSeq = 0;

async function route() {
  const seq = ++renderSeq;
  stopTimers();
  dropSubs();
  const { path, query } = parseHash();
  if (!signedIn()) {
    if (path !== '/login' && path !== '/') afterLogin = location.hash;
    document.title = `${t('signInTitle')} · ${t('app')}`;
    renderShell();
    const note = signOutNote;
    signOutNote = '';
    loginPage.render(main, { note, onSignedIn });
    return;
  }
  if (path === '/' || path === '/login') {
    location.replace(home());
    return;
  }
  // A password an administrator set is changed before anything else.
  if (session.user?.must_change_password && path !== '/password') {
    location.replace('#/password');
    return;
  }
  markCurrent();
  const r = routes.find((x) => x.re.test(path));
  put(main);
  main.setAttribute('aria-busy', 'true');
  try {
    if (!r) {
      main.append(h('h1', { id: 'page-title', tabindex: '-1' }, t('notFoundPage')), h('p', null, h('a', { href: home() }, t('back'))));
    } else if (r.allow && !r.allow(session.user)) {
      main.append(h('h1', { id: 'page-title', tabindex: '-1' }, t('forbidden')), h('p', null, h('a', { href: home() }, t('back'))));
    } else {
      // Each navigation renders into a view of its own: a slow page that
      // finishes after the user has moved on writes into its detached
      // view, never over the page now shown.
      const view = h('div', { class: 'view' });
      main.append(view);
      const m = r.re.exec(path);
      await r.page.render(view, { params: m.slice(1).map((x) => (x === undefined ? undefined : decodeURIComponent(x))), query, isCurrent: () => seq === renderSeq });
    }
  } catch (e) {
    if (seq !== renderSeq) return;
    put(main, errorBox(e, () => route()));
  } finally {
    if (seq === renderSeq) main.removeAttribute('aria-busy');
  }
  if (seq !== renderSeq) return;
  const title = main.querySelector('h1');
  document.title = `${title ? title.textContent : ''} · ${t('app')}`;
  // Move focus to the new page's heading, so screen readers announce it
  // and keyboard users start there; not on the first load.
  if (routed && title) title.focus({ preventScroll: false });
  routed = true;
}
let routed = false;

async function onSignedIn() {
  setUnread(session.user?.unread_count ?? 0);
  renderShell();
  connectStream();
  const target = afterLogin && !afterLogin.startsWith('#/login') ? afterLogin : home();
  afterLogin = '';
  if (location.hash === target) route(); else location.hash = target;
}

onSignOut((reason) => {
  closeStream();
  signOutNote = reason === 'expired' ? t('sessionExpired') : t('signedOut');
  renderShell();
  if (location.hash !== '#/login') location.hash = '#/login'; else route();
});

window.addEventListener('hashchange', route);

// The password page signed in again with the new password; the API said a
// password change comes first (an administrator reset it meanwhile).
window.addEventListener('duban:password-changed', () => { onSignedIn(); });
window.addEventListener('duban:password-required', () => {
  renderShell();
  if (location.hash !== '#/password') location.hash = '#/password';
});

// Plan clock and countdowns tick every second; the clock is re-read every
// five minutes so a long-open page does not drift.
setInterval(() => { tick(); updateClock(); }, 1000);
setInterval(syncClock, 5 * 60_000);

async function boot() {
  await syncClock();
  try {
    await restore();
  } catch (e) {
    put(main, errorBox(e, () => location.reload()));
    return;
  }
  document.getElementById('boot')?.remove();
  if (signedIn()) {
    setUnread(session.user?.unread_count ?? 0);
    connectStream();
  }
  renderShell();
  route();
}


boot();
