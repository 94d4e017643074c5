// A plan file's errors, each with its line and column: a table, and the
// file itself with the lines in error marked (the plan upload and the
// draft review both show them).
import { t } from './i18n.js';
import { h } from './dom.js';
import { table, cell } from './list.js';

// errorReport lists a plan file's errors by line, and shows the file's
// text (when given) with those lines marked, each error under its line.
// errors[].field names where the error is; fieldLabel, when given, says it
// in the page's words instead.
export function errorReport(err, text, fieldLabel = (e) => e.field || '') {
  const errs = [...err.errors].sort((a, b) => (a.line - b.line) || (a.column - b.column));
  const { root, body } = table({ text: t('planErrors', { n: errs.length }), visible: true }, [t('colLine'), t('colColumn'), t('colField'), t('colMessage')], 'plan-errors');
  for (const e of errs) {
    body.append(h('tr', { dataset: { line: e.line } },
      cell(t('colLine'), h('a', { href: `#plan-line-${e.line}`, onclick: (ev) => { ev.preventDefault(); document.getElementById(`plan-line-${e.line}`)?.scrollIntoView({ block: 'center' }); } }, String(e.line))),
      cell(t('colColumn'), String(e.column || '')),
      cell(t('colField'), h('code', null, fieldLabel(e))),
      cell(t('colMessage'), e.message)));
  }
  let source = null;
  if (text != null) {
    const byLine = new Map();
    for (const e of errs) byLine.set(e.line, [...(byLine.get(e.line) || []), e]);
    const lines = text.split('\n');
    source = h('details', { class: 'source-view', open: true },
      h('summary', null, t('sourceView')),
      h('ol', { class: 'source' }, lines.map((line, i) => {
        const n = i + 1;
        const bad = byLine.get(n);
        return h('li', { id: `plan-line-${n}`, class: bad ? 'bad' : null, value: n },
          h('code', null, line || ' '),
          bad ? bad.map((e) => h('p', { class: 'line-error' }, `${e.column ? `${n}:${e.column} ` : ''}${fieldLabel(e) ? `${fieldLabel(e)}：` : ''}${e.message}`)) : null);
      })));
  }
  return h('div', { class: 'error-report' }, root, source);
}
