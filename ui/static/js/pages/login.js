// 登录: sign in, with clear messages for a wrong password (and how many
// tries are left, as the API says) and for a locked account.
import { login } from '../api.js';
import { t, lang, setLang } from '../i18n.js';
import { h, icon, field, showFormError, clearErrors, busy, put } from '../dom.js';

export function render(main, { note, onSignedIn }) {
  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', autocapitalize: 'off', spellcheck: 'false', required: true });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const show = h('input', { type: 'checkbox', id: 'show-password', onchange: () => { pass.type = show.checked ? 'text' : 'password'; } });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('signIn'));
  const form = h('form', { class: 'login-form', novalidate: true, 'aria-labelledby': 'page-title' },
    field(t('username'), user, { name: 'username', required: true }),
    field(t('password'), pass, { name: 'password', required: true }),
    h('div', { class: 'check' }, show, h('label', { for: 'show-password' }, t('showPassword'))),
    submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    await busy(form, async () => {
      submit.textContent = t('signingIn');
      try {
        await login(user.value.trim(), pass.value);
        await onSignedIn();
      } catch (err) {
        submit.textContent = t('signIn');
        pass.value = '';
        showFormError(form, explain(err), { password: 'password' });
        if (err.code !== 'invalid') pass.focus();
      }
    });
  });
  const langBtn = h('button', { type: 'button', class: 'btn-ghost lang-switch', lang: lang() === 'zh' ? 'en' : 'zh-CN', 'aria-label': t('langSwitchLabel'),
    onclick: () => { setLang(lang() === 'zh' ? 'en' : 'zh'); render(main, { note: '', onSignedIn }); } }, icon('globe'), h('span', null, t('langSwitch')));
  put(main, h('div', { class: 'login-wrap' },
    h('section', { class: 'login-card card' },
      h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark big', 'aria-hidden': 'true' }, '督'),
        h('div', null, h('p', { class: 'login-org' }, t('org')), h('p', { class: 'login-app' }, t('appFull')))),
      h('h1', { id: 'page-title', tabindex: '-1' }, t('signInTitle')),
      h('p', { class: 'lead' }, t('signInLead')),
      note ? h('div', { class: 'alert alert-info', role: 'status' }, note) : null,
      form,
      h('div', { class: 'login-foot' }, langBtn))));
  user.focus();
}

// explain turns the sign-in problems into what a person should read. The
// API's sentences say how many tries remain before the account locks, and
// until when a locked account stays locked; they are shown as they come.
function explain(err) {
  const out = { message: err.message, errors: err.errors, status: err.status, requestId: err.requestId };
  if (err.code === 'account_locked') {
    out.message = lang() === 'en' ? `${t('accountLocked')}: ${err.message}` : err.message;
    out.errors = [];
  } else if (err.code === 'unauthorized') {
    out.message = t('signInFailed');
    out.errors = [{ field: 'password', message: err.message || t('wrongPassword') }];
  }
  return out;
}
