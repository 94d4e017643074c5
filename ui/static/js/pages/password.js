// 修改密码: every user, from the header at any time; and the only page an
// account whose password an administrator set (a new account, an import,
// a reset) can open until it is changed. The change ends every session
// (the API's rule), so the page signs in again with the new password and
// goes on to the user's first page.
// Calls: POST /me/password, POST /auth/login.
import { api, login, session } from '../api.js';
import { t } from '../i18n.js';
import { h, field, pageHeader, showFormError, clearErrors, busy, put, toast, announce } from '../dom.js';

export async function render(main) {
  const forced = !!session.user?.must_change_password;
  const current = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const again = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const form = h('form', { class: 'action-form card', id: 'password-form', novalidate: true },
    field(forced ? t('pwInitial') : t('pwCurrent'), current, { name: 'current_password', required: true }),
    field(t('pwNew'), next, { name: 'new_password', required: true, hint: t('pwNewHint') }),
    field(t('pwAgain'), again, { name: 'new_password_again', required: true }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('pwSubmit'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    if (next.value !== again.value) {
      showFormError(form, { message: t('formHasErrors'), errors: [{ field: 'new_password_again', message: t('pwMismatch') }] });
      return;
    }
    await busy(form, async () => {
      const username = session.user.username;
      try {
        await api('/me/password', { method: 'POST', json: { current_password: current.value, new_password: next.value } });
      } catch (err) {
        showFormError(form, err);
        return;
      }
      // Every session ended with the change: sign in with the new password.
      await login(username, next.value);
      toast(t('pwChanged'), 'ok');
      announce(t('pwChanged'));
      window.dispatchEvent(new CustomEvent('duban:password-changed'));
    });
  });
  put(main,
    pageHeader(t('pwTitle'), forced ? null : t('pwLead')),
    forced ? h('div', { class: 'alert alert-warn', role: 'alert', id: 'must-change' }, t('pwForced')) : null,
    form);
  current.focus();
}
