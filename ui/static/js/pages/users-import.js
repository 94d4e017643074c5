// 批量导入账号 (admins): download the template, fill it, upload it to be
// checked (every bad row listed with its row number and reason; nothing is
// stored), then import it and download the new accounts' initial
// passwords, once.
// Calls: GET /users/import/template, POST /users/import?dry_run=1,
// POST /users/import.
import { api, download, session } from '../api.js';
import { t } from '../i18n.js';
import { h, field, pageHeader, showFormError, clearErrors, busy, put, toast, announce, backLink } from '../dom.js';
import { table, cell } from '../list.js';

export async function render(main) {
  const me = session.user;
  const file = h('input', { type: 'file', accept: '.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', required: true });
  const result = h('div', { id: 'import-result', 'aria-live': 'polite' });
  const tplBtn = h('button', { type: 'button', class: 'btn', id: 'import-template' }, t('importTemplate'));
  tplBtn.addEventListener('click', async () => {
    tplBtn.disabled = true;
    try { await download('/users/import/template', t('importTemplateName')); } catch (e) { toast(e.message, 'error'); } finally { tplBtn.disabled = false; }
  });
  const form = h('form', { class: 'action-form', id: 'import-form', novalidate: true },
    field(t('importFile'), file, { name: 'file', required: true, hint: t('importFileHint') }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('importCheck'))));
  file.addEventListener('change', () => put(result));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    put(result);
    const f = file.files[0];
    if (!f) {
      showFormError(form, { message: t('formHasErrors'), errors: [{ field: 'file', message: t('importChooseFile') }] });
      return;
    }
    await busy(form, async () => {
      try {
        const r = await send(f, true);
        put(result, checked(r, f, result, form));
        announce(t('importChecked', { rows: r.rows, created: r.created, updated: r.updated }));
      } catch (err) {
        showBad(form, result, err);
      }
    });
  });
  put(main,
    backLink('#/users'),
    pageHeader(t('importTitle'), t('importLead', { unit: me.unit?.name || '' })),
    h('section', { class: 'card' },
      h('ol', { class: 'import-steps' },
        h('li', null, t('importStep1'), ' ', tplBtn),
        h('li', null, t('importStep2')),
        h('li', null, t('importStep3'))),
      form),
    result);
}

function send(f, dryRun) {
  const fd = new FormData();
  fd.append('file', f, f.name);
  return api(`/users/import${dryRun ? '?dry_run=1' : ''}`, { method: 'POST', form: fd });
}

// showBad shows a refused sheet: every bad row with its number, column
// and reason; or a fault of the file itself next to the file field.
function showBad(form, result, err) {
  const rows = (err.errors || []).filter((e) => e.line);
  if (!rows.length) {
    showFormError(form, err);
    return;
  }
  const { root, body } = table({ text: t('importBadRows'), visible: true }, [t('importLine'), t('importColumn'), t('importReason')], 'bad-rows');
  for (const e of rows) {
    body.append(h('tr', { dataset: { line: String(e.line) } },
      cell(t('importLine'), String(e.line)), cell(t('importColumn'), e.field), cell(t('importReason'), e.message)));
  }
  put(result, h('section', { class: 'card', id: 'import-errors' },
    h('div', { class: 'alert alert-error', role: 'alert' }, h('p', null, err.message), h('p', { class: 'small' }, t('importNothingStored'))),
    root));
  result.querySelector('.alert').focus?.();
}

// checked is a sheet that passed: what it will do, and the import button.
function checked(r, f, result, form) {
  const go = h('button', { type: 'button', class: 'btn btn-primary', id: 'import-confirm' }, t('importConfirm', { created: r.created, updated: r.updated }));
  const { root, body } = table({ text: t('importPreview'), visible: true }, [t('importLine'), t('importAction'), t('uName'), t('uUnit'), t('uRoles')]);
  for (const p of r.preview || []) {
    body.append(h('tr', { dataset: { line: String(p.line) } }, cell(t('importLine'), String(p.line)),
      cell(t('importAction'), t(p.action === 'create' ? 'importCreate' : 'importUpdate')),
      cell(t('uName'), h('strong', null, p.display_name), h('span', { class: 'muted small block' }, p.username)),
      cell(t('uUnit'), p.unit?.name || p.unit?.code), cell(t('uRoles'), (p.roles || []).join('、'))));
  }
  go.addEventListener('click', async () => {
    await busy(form, async () => {
      go.disabled = true;
      try {
        const done = await send(f, false);
        put(result, imported(done));
        toast(t('importDone', { created: done.created, updated: done.updated }), 'ok');
      } catch (err) {
        go.disabled = false;
        showBad(form, result, err);
      }
    });
  });
  return h('section', { class: 'card', id: 'import-checked' },
    h('div', { class: 'alert alert-ok', role: 'status' }, h('p', null, t('importChecked', { rows: r.rows, created: r.created, updated: r.updated }))),
    r.rows > (r.preview || []).length ? h('p', { class: 'muted small' }, t('importPreviewSome', { n: (r.preview || []).length })) : null,
    root,
    h('div', { class: 'form-actions' }, go));
}

// imported offers the new accounts' passwords once: the sheet lives only
// in this page (the server keeps no copy).
function imported(done) {
  let link = null;
  if (done.passwords_xlsx) {
    const bytes = Uint8Array.from(atob(done.passwords_xlsx), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }));
    link = h('a', { class: 'btn btn-primary', id: 'password-sheet', href: url, download: done.passwords_file }, t('importPasswords'));
  }
  return h('section', { class: 'card', id: 'import-done' },
    h('div', { class: 'alert alert-ok', role: 'status' }, h('p', null, h('strong', null, t('importDone', { created: done.created, updated: done.updated })))),
    link ? h('p', { class: 'alert alert-warn' }, t('importPasswordsOnce')) : null,
    link,
    h('p', null, h('a', { href: '#/users' }, t('importToUsers'))));
}
