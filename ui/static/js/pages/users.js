// 用户管理 (admins): the accounts of the admin's units. Search by name or
// username, filter by unit (with the units below), role and status
// (启用/停用/锁定); add an account (a generated initial password, shown
// once, changed on first sign-in); change a name, roles, unit, email or
// mobile; disable or enable; unlock after failed sign-ins; reset the
// password (generated, shown once).
// Calls: GET/POST /users, PATCH /users/{id}, POST /users/{id}/unlock,
// POST /users/{id}/reset-password, GET /units?q=.
import { api, qs, session } from '../api.js';
import { t, label } from '../i18n.js';
import { h, field, pageHeader, showFormError, clearErrors, busy, put, toast, announce, fmtDateTime } from '../dom.js';
import { pagedList, table, cell } from '../list.js';
import { unitPicker } from '../unit-picker.js';

const roles = ['official', 'approver', 'supervisor', 'admin'];
const statuses = ['active', 'disabled', 'locked'];

export async function render(main, { query }) {
  const me = session.user;
  const f = { q: query.get('q') || '', unit: query.get('unit') || '', role: query.get('role') || '', status: query.get('status') || '' };
  let unitOfFilter = null;
  if (f.unit) unitOfFilter = await api(`/units/${encodeURIComponent(f.unit)}`).catch(() => ({ code: f.unit, name: f.unit }));

  const listBox = h('div', { id: 'user-list', 'aria-live': 'polite' }, h('p', { class: 'muted' }, t('loading')));
  const secretBox = h('div', { id: 'user-secret', 'aria-live': 'polite' });
  const editBox = h('div', { id: 'user-edit' });
  const filters = filterForm(f, unitOfFilter);
  let list;
  const reload = () => list.reload();
  list = pagedList({
    container: listBox,
    pageSize: 50,
    makeList: () => table(t('usersTitle'), [t('uName'), t('uUnit'), t('uRoles'), t('uStatus'), t('uActions')], 'users-table'),
    fetchPage: ({ cursor, limit }) => api(`/users${qs({ q: f.q, unit: f.unit, subtree: f.unit ? 1 : '', role: f.role, status: f.status, limit, cursor })}`)
      .catch((e) => { if (e.status === 422) showFormError(filters, e); throw e; }),
    renderItem: (u) => userRow(u, me, { reload, secretBox, editBox }),
    emptyText: t('noUsers'),
  });
  put(main,
    pageHeader(t('usersTitle'), t('usersLead', { unit: me.unit?.name || '' }),
      h('a', { class: 'btn', href: '#/users/import', 'data-action': 'import' }, t('importUsers')),
      h('a', { class: 'btn', href: '#/units' }, t('navUnits'))),
    secretBox,
    h('details', { class: 'card', id: 'user-create-box' }, h('summary', null, h('strong', null, t('userCreate'))),
      createForm(me, secretBox, reload)),
    editBox,
    h('section', { class: 'card', 'aria-labelledby': 'page-title' }, filters, listBox));
  await list.load();
}

function filterForm(f, unitOfFilter) {
  const q = h('input', { type: 'text', enterkeyhint: 'search', value: f.q, maxlength: 64, autocomplete: 'off' });
  const unit = unitPicker({ value: unitOfFilter, name: 'unit', placeholder: t('unitPickerHint') });
  const role = h('select', null, h('option', { value: '' }, t('all')), roles.map((r) => h('option', { value: r, selected: r === f.role }, label('role', r))));
  const status = h('select', null, h('option', { value: '' }, t('all')),
    statuses.map((s) => h('option', { value: s, selected: s === f.status }, t(`uStatus_${s}`))));
  const form = h('form', { class: 'filters', role: 'search', id: 'user-filters', 'aria-label': t('filters'), novalidate: true },
    field(t('uSearch'), q, { name: 'q', hint: t('uSearchHint') }), field(t('uUnitSubtree'), unit.el, { name: 'unit' }),
    field(t('uRole'), role, { name: 'role' }), field(t('uStatus'), status, { name: 'status' }),
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('apply')),
      h('a', { class: 'btn', href: '#/users' }, t('reset'))));
  unit.input.id = unit.input.id || 'user-filter-unit';
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/users${qs({ q: q.value.trim(), unit: unit.code(), role: role.value, status: status.value })}`;
  });
  return form;
}

function roleBoxes(prefix, chosen = []) {
  const boxes = roles.map((r) => h('input', { type: 'checkbox', id: `${prefix}-role-${r}`, value: r, checked: chosen.includes(r) }));
  const el = h('fieldset', { class: 'field', 'data-field': 'roles' }, h('legend', null, t('uRoles'), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
    h('div', { class: 'check-row' }, boxes.map((b, i) => h('span', { class: 'check' }, b, h('label', { for: b.id }, label('role', roles[i]))))));
  return { el, value: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}

function createForm(me, secretBox, reload) {
  const username = h('input', { type: 'text', maxlength: 64, autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false' });
  const name = h('input', { type: 'text', maxlength: 60, autocomplete: 'off' });
  const unit = unitPicker({ name: 'unit_code', placeholder: t('unitPickerHint') });
  const rb = roleBoxes('new', ['official']);
  const email = h('input', { type: 'email', maxlength: 200, autocomplete: 'off' });
  const mobile = h('input', { type: 'tel', maxlength: 11, inputmode: 'numeric', autocomplete: 'off' });
  const form = h('form', { class: 'action-form', id: 'user-create', novalidate: true },
    h('div', { class: 'grid-2' },
      field(t('username'), username, { name: 'username', required: true, hint: t('usernameHint') }),
      field(t('uDisplayName'), name, { name: 'display_name', required: true }),
      field(t('uUnit'), unit.el, { name: 'unit_code', required: true }),
      rb.el,
      field(t('uEmail'), email, { name: 'email', optional: true }),
      field(t('uMobile'), mobile, { name: 'mobile', optional: true })),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('userCreateSubmit'))));
  unit.input.id = 'new-user-unit';
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    await busy(form, async () => {
      try {
        const u = await api('/users', { method: 'POST', json: { username: username.value.trim(), display_name: name.value.trim(), unit_code: unit.code(),
          roles: rb.value(), email: email.value.trim(), mobile: mobile.value.trim() } });
        showSecret(secretBox, u, t('userCreated', { name: u.display_name }));
        form.reset();
        unit.set(null);
        await reload();
      } catch (err) {
        showFormError(form, err);
      }
    });
  });
  return form;
}

// showSecret shows a generated password once: it is not kept anywhere the
// page can show it again.
function showSecret(box, u, title) {
  put(box, h('div', { class: 'alert alert-ok secret', role: 'status' },
    h('p', null, h('strong', null, title)),
    h('p', null, t('secretFor', { user: u.username }), ' ', h('code', { class: 'initial-password', dataset: { user: u.username } }, u.initial_password)),
    h('p', { class: 'small' }, t('secretOnce')),
    h('button', { type: 'button', class: 'btn btn-sm', onclick: () => put(box) }, t('secretHide'))));
  announce(title);
  box.scrollIntoView({ block: 'nearest' });
}

function userRow(u, me, ctx) {
  const act = (key, action, fn, cls = '') => {
    const b = h('button', { type: 'button', class: `btn btn-sm ${cls}`, 'data-action': action }, t(key));
    b.addEventListener('click', async () => {
      b.disabled = true;
      try { await fn(); } catch (err) { toast(err.message, 'error'); } finally { b.disabled = false; }
    });
    return b;
  };
  const path = `/users/${u.id}`;
  const self = u.id === me.id;
  const actions = [
    act('edit', 'edit', async () => editForm(u, ctx)),
    !self && (u.disabled
      ? act('uEnable', 'enable', async () => { await api(path, { method: 'PATCH', json: { disabled: false } }); toast(t('uEnabled', { name: u.display_name }), 'ok'); await ctx.reload(); })
      : act('uDisable', 'disable', async () => {
        if (!confirm(t('uDisableConfirm', { name: u.display_name }))) return;
        await api(path, { method: 'PATCH', json: { disabled: true } });
        toast(t('uDisabled', { name: u.display_name }), 'ok');
        await ctx.reload();
      }, 'btn-danger')),
    u.status === 'locked' && act('uUnlock', 'unlock', async () => {
      await api(`${path}/unlock`, { method: 'POST' });
      toast(t('uUnlocked', { name: u.display_name }), 'ok');
      await ctx.reload();
    }),
    !self && act('uReset', 'reset', async () => {
      if (!confirm(t('uResetConfirm', { name: u.display_name }))) return;
      const r = await api(`${path}/reset-password`, { method: 'POST' });
      showSecret(ctx.secretBox, r, t('uResetDone', { name: r.display_name }));
      await ctx.reload();
    }),
  ];
  const status = h('span', { class: `tag user-status user-status-${u.status}` }, t(`uStatus_${u.status}`));
  return h('tr', { dataset: { id: String(u.id), username: u.username, status: u.status } },
    cell(t('uName'), h('strong', null, u.display_name), h('span', { class: 'muted small block' }, u.username)),
    cell(t('uUnit'), u.unit?.name || u.unit?.code),
    cell(t('uRoles'), (u.roles || []).map((r) => label('role', r.role, r.label)).join('、')),
    cell(t('uStatus'), status, u.must_change_password ? h('span', { class: 'tag tag-warn block' }, t('uMustChange')) : null,
      u.locked_until ? h('span', { class: 'muted small block' }, t('uLockedUntil', { at: fmtDateTime(u.locked_until) })) : null),
    cell(t('uActions'), h('div', { class: 'row-actions' }, actions)));
}

function editForm(u, ctx) {
  const name = h('input', { type: 'text', maxlength: 60, value: u.display_name });
  const unit = unitPicker({ value: u.unit, name: 'unit_code' });
  const rb = roleBoxes(`edit-${u.id}`, (u.roles || []).map((r) => r.role));
  const email = h('input', { type: 'email', maxlength: 200, value: u.email || '' });
  const mobile = h('input', { type: 'tel', maxlength: 11, inputmode: 'numeric', value: u.mobile || '' });
  const form = h('form', { class: 'action-form card', id: 'user-edit-form', novalidate: true, dataset: { id: String(u.id) } },
    h('h2', null, t('userEdit', { name: u.display_name, user: u.username })),
    h('div', { class: 'grid-2' },
      field(t('uDisplayName'), name, { name: 'display_name', required: true }),
      field(t('uUnit'), unit.el, { name: 'unit_code', required: true }),
      rb.el,
      field(t('uEmail'), email, { name: 'email', optional: true }),
      field(t('uMobile'), mobile, { name: 'mobile', optional: true })),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('save')),
      h('button', { type: 'button', class: 'btn', onclick: () => put(ctx.editBox) }, t('cancel'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    await busy(form, async () => {
      try {
        const r = await api(`/users/${u.id}`, { method: 'PATCH', json: { display_name: name.value.trim(), unit_code: unit.code(), roles: rb.value(),
          email: email.value.trim(), mobile: mobile.value.trim() } });
        toast(t('userSaved', { name: r.display_name }), 'ok');
        put(ctx.editBox);
        await ctx.reload();
      } catch (err) {
        showFormError(form, err);
      }
    });
  });
  put(ctx.editBox, form);
  form.scrollIntoView({ block: 'nearest' });
  name.focus();
}
