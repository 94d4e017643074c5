// 起草计划 (admins of the province): paste or upload next year's notice;
// the notice and the draft side by side (stacked on a phone): every
// sentence marked as a task, not a task or unreadable, each proposal with
// its fields, reasons and assumptions, to accept, edit or drop; the
// unreadable sentences listed; then check the plan file the review makes
// (its errors by line, marked on the proposals too), download it, or
// import it as a new plan.
// Calls: POST /drafts (text/plain or multipart "file"), POST /drafts/plan
// (?format=yaml to download), POST /drafts/import.
import { api, download } from '../api.js';
import { t, label } from '../i18n.js';
import { h, field, pageHeader, toast, announce, showFormError, clearErrors, busy, empty, put, icon } from '../dom.js';
import { errorReport } from '../plan-errors.js';
import { forgetPlans, storedPlans } from '../plans-cache.js';

const LEVELS = ['province', 'city', 'county', 'township'];
const KINDS = ['deadline', 'count', 'ratio', 'event', 'recurring'];
const PERIODS = ['month', 'quarter', 'half'];

export async function render(main) {
  const result = h('div', { class: 'draft-result' });
  put(main,
    pageHeader(t('draftTitle'), t('draftLead'), h('a', { class: 'btn', href: '#/plans' }, icon('plan'), t('navPlans'))),
    noticeCard(result),
    result);
}

// noticeCard takes the notice: pasted text or a file (.docx, .txt, .md).
function noticeCard(result) {
  const text = h('textarea', { rows: 8, name: 'text', placeholder: t('draftPastePlaceholder') });
  const file = h('input', { type: 'file', name: 'file', accept: '.docx,.txt,.md,text/plain,text/markdown,application/vnd.openxmlformats-officedocument.wordprocessingml.document' });
  const year = h('input', { type: 'number', name: 'year', min: 2000, max: 2100, inputmode: 'numeric' });
  const form = h('form', { class: 'action-form draft-notice', id: 'draft-form', novalidate: true },
    field(t('draftPaste'), text, { name: 'text', hint: t('draftPasteHint') }),
    h('div', { class: 'draft-notice-row' },
      field(t('draftFile'), file, { name: 'file', hint: t('draftFileHint') }),
      field(t('draftYear'), year, { name: 'year', optional: true })),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary', id: 'draft-run' }, t('draftRun'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const f = file.files[0];
    const q = year.value ? `?year=${encodeURIComponent(year.value)}` : '';
    await busy(form, async () => {
      try {
        let d;
        if (f) {
          const fd = new FormData();
          fd.append('file', f, f.name);
          d = await api(`/drafts${q}`, { method: 'POST', form: fd });
        } else {
          d = await api(`/drafts${q}`, { method: 'POST', body: text.value, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
        }
        put(result, review(d, await storedPlans().catch(() => [])));
        announce(t('draftDone', d.counts));
        result.querySelector('h2')?.focus();
      } catch (err) {
        showFormError(form, err, { file: f ? 'file' : 'text' });
      }
    });
  });
  return h('section', { class: 'card', 'aria-labelledby': 'notice-h' }, h('h2', { id: 'notice-h' }, t('draftNotice')), form);
}

// --- the review ---

// editable are the fields a review sends back for each proposal.
const editable = ['id', 'section', 'decision', 'title', 'quote', 'levels', 'units', 'kind', 'due', 'every', 'basis', 'due_note',
  'target', 'ratio', 'evidence_required', 'evidence_note', 'notes'];

function pick(p) {
  const o = {};
  for (const k of editable) if (p[k] !== undefined) o[k] = structuredClone(p[k]);
  return o;
}

function review(d, plans) {
  // state.items[i] is proposal i as reviewed; originals stay in d.
  const state = { items: d.proposals.map(pick) };
  const head = headForm(d, plans);
  const cards = new Map();
  const results = h('div', { class: 'draft-check', 'aria-live': 'polite' });

  const proposalsBox = h('div', { class: 'draft-proposals' });
  for (const sec of d.sections) {
    const mine = d.proposals.map((p, i) => [p, i]).filter(([p]) => p.section === sec.id);
    if (!mine.length) continue;
    proposalsBox.append(h('h3', { class: 'draft-section' }, `${sec.id === '0' ? '' : `${sec.id}. `}${sec.title}`));
    for (const [p, i] of mine) {
      const card = h('article', { class: 'proposal', dataset: { id: p.id, index: String(i) }, tabindex: '-1' });
      cards.set(i, card);
      drawCard(card, d, state, i);
      proposalsBox.append(card);
    }
  }
  if (!d.proposals.length) proposalsBox.append(empty(t('draftNoProposals')));

  const send = (path, opts = {}) => api(path, { method: 'POST', json: body(d, head, state), ...opts });
  const clearAll = () => {
    for (const card of cards.values()) {
      card.querySelector('.proposal-errors')?.replaceChildren();
      card.classList.remove('has-error');
    }
    clearErrors(head.form);
    put(results);
  };
  // showErrors puts each error where it belongs: under the plan's head
  // fields, on the proposal it names, and, for the plan file's errors, in
  // a table by line beside the file with those lines marked.
  const showErrors = (err) => {
    clearAll();
    const headErrs = err.errors.filter((x) => !/^proposals\[/.test(x.field || ''));
    let first = null;
    for (const e of err.errors) {
      const m = /^proposals\[(\d+)\](.*)$/.exec(e.field || '');
      const card = m && cards.get(Number(m[1]));
      if (!card) continue;
      card.classList.add('has-error');
      card.querySelector('.proposal-errors').append(h('p', { class: 'field-error' }, icon('alert'), ' ',
        `${fieldName(m[2])}：${e.message}${e.line ? `（${t('draftLine', { n: e.line })}）` : ''}`));
      first ??= card;
    }
    const lined = err.errors.filter((x) => x.line);
    put(results, h('div', { class: 'alert alert-error', role: 'alert' }, h('p', null, err.message)),
      lined.length ? h('section', { class: 'card', 'aria-label': t('planErrors', { n: err.errors.length }) },
        errorReport(err, err.problem?.yaml ?? null, (e) => fieldLabel(e, state))) : null);
    if (headErrs.length || !first) {
      showFormError(head.form, { message: err.message, errors: headErrs, status: err.status, requestId: err.requestId });
    } else {
      first.scrollIntoView({ block: 'center' });
    }
  };

  const checkBtn = h('button', { type: 'button', class: 'btn', id: 'draft-check' }, t('draftCheck'));
  const yamlBtn = h('button', { type: 'button', class: 'btn', id: 'draft-yaml' }, icon('file'), t('draftDownload'));
  const importBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'draft-import' }, t('draftImport'));
  const bar = h('div', { class: 'card draft-bar' },
    h('p', { class: 'draft-tally', role: 'status' }), h('div', { class: 'form-actions' }, checkBtn, yamlBtn, importBtn));
  const tally = () => {
    const n = { accept: 0, edit: 0, drop: 0 };
    for (const it of state.items) n[it.decision]++;
    bar.querySelector('.draft-tally').textContent = t('draftTally', n);
  };
  state.changed = tally;
  tally();
  const run = (btn, fn) => btn.addEventListener('click', () => busy(bar, async () => {
    clearErrors(head.form);
    try {
      await fn();
    } catch (err) {
      if (err.status === 422 || err.status === 409) showErrors(err);
      else showFormError(head.form, err);
    }
  }));
  run(checkBtn, async () => {
    const r = await send('/drafts/plan');
    clearAll();
    put(results, h('div', { class: 'alert alert-ok', role: 'status' }, t('draftValid', r)),
      h('details', { class: 'source-view' }, h('summary', null, t('draftPreview')), h('pre', { class: 'source yaml' }, r.yaml)));
  });
  run(yamlBtn, async () => {
    const name = await download('/drafts/plan?format=yaml', `${head.value().plan_id}.yaml`, { method: 'POST', json: body(d, head, state) });
    toast(t('exported', { name }), 'ok');
  });
  run(importBtn, async () => {
    const r = await send('/drafts/import');
    clearAll();
    forgetPlans();
    const msg = t('draftImported', { id: r.plan.id, n: r.check.templates });
    toast(msg, 'ok');
    announce(msg);
    put(results, h('div', { class: 'alert alert-ok', role: 'status', id: 'draft-imported' }, h('p', null, msg),
      h('p', null, h('a', { href: '#/plans' }, t('draftToPlans')))));
  });

  const counts = d.counts;
  return h('div', { class: 'draft' },
    h('section', { class: 'card', 'aria-labelledby': 'draft-h' },
      h('h2', { id: 'draft-h', tabindex: '-1' }, t('draftOf', { title: d.title || d.notice })),
      h('p', { class: 'draft-counts' }, t('draftCounts', counts)),
      h('p', { class: 'muted small' }, t('draftIssuer', { issuer: d.issuer.name, addressee: d.addressee_label || label('level', d.addressee) })),
      d.context?.length ? h('details', { class: 'rules' }, h('summary', null, t('draftContext')), h('ul', null, d.context.map((c) => h('li', null, c)))) : null,
      head.form),
    unreadCard(d),
    h('div', { class: 'draft-review' },
      h('section', { class: 'card draft-notice-view', 'aria-labelledby': 'nv-h' }, h('h2', { id: 'nv-h' }, t('draftNoticeView')), legend(), noticeView(d, cards)),
      h('section', { class: 'card draft-proposals-card', 'aria-labelledby': 'pr-h' }, h('h2', { id: 'pr-h' }, t('draftProposals', { n: d.proposals.length })), proposalsBox)),
    bar,
    results);
}

// headForm edits the plan's id, year, title and source.
function headForm(d, plans) {
  const id = h('input', { type: 'text', name: 'plan_id', value: d.plan_id, autocomplete: 'off', spellcheck: 'false' });
  const base = h('select', { name: 'base' }, (plans.some((p) => p.id === d.base) ? plans : [{ id: d.base, year: d.year }, ...plans])
    .filter((p) => p.id).map((p) => h('option', { value: p.id, selected: p.id === d.base }, `${p.id}（${p.year}）`)));
  const year = h('input', { type: 'number', name: 'year', value: String(d.year), min: 2000, max: 2100, inputmode: 'numeric' });
  const title = h('input', { type: 'text', name: 'title', value: d.title });
  const source = h('input', { type: 'text', name: 'source', value: d.source });
  const form = h('form', { class: 'draft-head', id: 'draft-head', novalidate: true },
    field(t('draftPlanID'), id, { name: 'plan_id', hint: t('draftPlanIDHint') }),
    field(t('colYear'), year, { name: 'year' }),
    field(t('draftPlanTitle'), title, { name: 'title' }),
    field(t('colSource'), source, { name: 'source' }),
    base.options.length ? field(t('draftBasePlan'), base, { name: 'base', hint: t('draftBaseHint') }) : null);
  form.addEventListener('submit', (e) => e.preventDefault());
  return { form, value: () => ({ plan_id: id.value.trim(), year: Number(year.value) || 0, title: title.value.trim(), source: source.value.trim(), base: base.value || d.base }) };
}

function body(d, head, state) {
  return {
    ...head.value(),
    notice: d.notice,
    sections: d.sections,
    proposals: state.items.map(clean),
    unreadable: d.unreadable.map((s) => s.text),
  };
}

// clean sends what the kind uses: a target for a count, a ratio for a
// ratio, a period for a recurring task, a date otherwise.
function clean(p) {
  const o = { ...p };
  if (o.kind !== 'count') delete o.target;
  if (o.kind !== 'ratio') delete o.ratio;
  if (o.kind === 'recurring') delete o.due; else delete o.every;
  return o;
}

function unreadCard(d) {
  const list = d.unreadable;
  return h('section', { class: ['card', 'draft-unread', list.length ? 'alert-warn' : ''], 'aria-labelledby': 'unread-h' },
    h('h2', { id: 'unread-h' }, t('draftUnread', { n: list.length })),
    list.length
      ? h('ul', null, list.map((s) => h('li', { dataset: { sentence: String(s.index) } },
        h('a', { href: `#s-${s.index}`, onclick: (e) => { e.preventDefault(); focusSentence(s.index); } }, t('draftSentenceNo', { n: s.index, p: s.paragraph })),
        ' ', h('span', null, s.text), h('span', { class: 'muted small block' }, s.reason))))
      : h('p', { class: 'muted' }, t('draftNoUnread')));
}

function legend() {
  return h('p', { class: 'draft-legend small' },
    h('span', { class: 's-obligation' }, t('draftVerdictObligation')), ' ',
    h('span', { class: 's-none' }, t('draftVerdictNone')), ' ',
    h('span', { class: 's-unreadable' }, t('draftVerdictUnreadable')));
}

function focusSentence(index) {
  const el = document.getElementById(`s-${index}`);
  if (!el) return;
  el.scrollIntoView({ block: 'center' });
  el.focus({ preventScroll: true });
}

// noticeView shows the notice paragraph by paragraph, every sentence marked
// by its verdict (its reason as a tooltip and for screen readers), each
// clause that became a proposal a link to it.
function noticeView(d, cards) {
  const chars = Array.from(d.text); // offsets count characters
  const byPara = new Map();
  for (const s of d.sentences) byPara.set(s.paragraph, [...(byPara.get(s.paragraph) || []), s]);
  const paras = [];
  for (const [, ss] of [...byPara].sort((a, b) => a[0] - b[0])) {
    paras.push(h('p', null, ss.map((s) => {
      const parts = [];
      let at = s.start;
      for (const c of s.clauses.filter((x) => x.proposal)) {
        if (c.start > at) parts.push(chars.slice(at, c.start).join(''));
        const i = d.proposals.findIndex((p) => p.id === c.proposal);
        parts.push(h('a', { class: 'clause', href: `#p-${c.proposal}`, dataset: { proposal: c.proposal }, onclick: (e) => {
          e.preventDefault();
          const card = cards.get(i);
          card?.scrollIntoView({ block: 'center' });
          card?.focus({ preventScroll: true });
        } }, chars.slice(c.start, c.end).join(''), h('sup', null, c.proposal)));
        at = c.end;
      }
      if (at < s.end) parts.push(chars.slice(at, s.end).join(''));
      return h('span', { class: `sentence s-${s.verdict}`, id: `s-${s.index}`, tabindex: '-1', title: `${s.verdict_label}：${s.reason}`, dataset: { index: String(s.index) } },
        h('span', { class: 'sr-only' }, `${s.verdict_label}：`), parts, ' ');
    })));
  }
  return h('div', { class: 'notice-text' }, paras);
}

// --- one proposal ---

function responsibleText(p) {
  return [...(p.levels || []).map((l) => label('level', l)), ...(p.units || [])].join('、') || '—';
}

function dueText(p) {
  if (p.kind === 'recurring') return t('draftEvery', { p: t(`period_${p.every || 'quarter'}`) });
  return p.due || '—';
}

function targetText(p) {
  if (p.kind === 'count') return t('draftTarget', { n: p.target || 0 });
  if (p.kind === 'ratio' && p.ratio) return t('draftRatio', { num: p.ratio.num, den: p.ratio.den, of: label('level', p.ratio.of) });
  return '';
}

function drawCard(card, d, state, i) {
  const orig = d.proposals[i];
  const p = state.items[i];
  card.className = `proposal decision-${p.decision}`;
  card.id = `p-${orig.id}`;
  const decide = (decision) => {
    state.items[i] = decision === 'accept' ? pick(orig) : { ...state.items[i], decision };
    if (decision === 'accept') state.items[i].decision = 'accept';
    drawCard(card, d, state, i);
    state.changed?.();
    card.querySelector(`[data-decide="${decision === 'drop' ? 'accept' : decision}"]`)?.focus();
  };
  const btn = (decision, text, cls) => h('button', { type: 'button', class: ['btn btn-sm', cls], dataset: { decide: decision },
    'aria-pressed': p.decision === decision ? 'true' : 'false' }, text);
  const why = [...(orig.notes || [])];
  const badge = { accept: t('draftAccepted'), edit: t('draftEdited'), drop: t('draftDropped') }[p.decision];
  put(card,
    h('header', { class: 'proposal-head' },
      h('span', { class: 'tpl-id' }, orig.id),
      h('strong', { class: 'proposal-title' }, p.title),
      h('span', { class: `tag decision-tag tag-${p.decision}` }, badge)),
    h('blockquote', { class: 'proposal-quote' }, orig.quote),
    h('dl', { class: 'facts proposal-facts' },
      h('dt', null, t('unit')), h('dd', { class: 'f-levels' }, responsibleText(p)),
      h('dt', null, t('kind')), h('dd', { class: 'f-kind' }, label('kind', p.kind)),
      h('dt', null, t('due')), h('dd', { class: 'f-due' }, dueText(p)),
      targetText(p) ? [h('dt', null, t('draftTargetLabel')), h('dd', { class: 'f-target' }, targetText(p))] : null,
      h('dt', null, t('evidenceReq')), h('dd', { class: 'f-evidence' }, p.evidence_required ? p.evidence_note || t('yes') : t('evidenceOptional'))),
    orig.assumptions?.length ? h('ul', { class: 'assumptions' }, orig.assumptions.map((a) => h('li', null, t('draftAssumption', { a })))) : null,
    h('details', { class: 'why' }, h('summary', null, t('draftWhy')), h('ul', null, why.map((w) => h('li', null, w)))),
    h('div', { class: 'proposal-errors', role: 'alert' }),
    p.decision === 'drop'
      ? h('div', { class: 'proposal-actions' }, btn('accept', t('draftRestore')))
      : h('div', { class: 'proposal-actions' },
        btn('accept', t('draftAccept')),
        h('button', { type: 'button', class: 'btn btn-sm', dataset: { decide: 'edit' }, 'aria-pressed': p.decision === 'edit' ? 'true' : 'false',
          'aria-expanded': 'false', onclick: () => openEditor(card, d, state, i) }, t('draftEdit')),
        btn('drop', t('draftDrop'), 'btn-danger')));
  for (const b of card.querySelectorAll('.proposal-actions [data-decide="accept"], .proposal-actions [data-decide="drop"]')) {
    b.addEventListener('click', () => decide(b.dataset.decide));
  }
}

// openEditor edits a proposal's levels and units, kind, due date or
// period, target or ratio, evidence and title in place.
function openEditor(card, d, state, i) {
  const p = state.items[i];
  const orig = d.proposals[i];
  card.querySelector('.proposal-edit')?.remove();
  const title = h('input', { type: 'text', value: p.title, maxlength: 200 });
  const levels = h('fieldset', { class: 'levels', 'data-field': 'levels' }, h('legend', null, t('draftLevels')),
    LEVELS.map((l) => {
      const id = `lv-${orig.id.replace(/\W/g, '_')}-${l}`;
      return h('span', { class: 'check' }, h('input', { type: 'checkbox', id, value: l, checked: (p.levels || []).includes(l) }), h('label', { for: id }, label('level', l)));
    }));
  const units = h('input', { type: 'text', value: (p.units || []).join('、'), inputmode: 'numeric', spellcheck: 'false' });
  const kind = h('select', null, KINDS.map((k) => h('option', { value: k, selected: k === p.kind }, label('kind', k))));
  const due = h('input', { type: 'date', value: p.due || `${d.year}-12-31`, min: '2000-01-01', max: '2100-12-31' });
  const every = h('select', null, PERIODS.map((x) => h('option', { value: x, selected: x === (p.every || 'quarter') }, t(`period_${x}`))));
  const target = h('input', { type: 'number', min: 1, max: 1000000, value: String(p.target || 1), inputmode: 'numeric' });
  const num = h('input', { type: 'number', min: 1, max: 10000, value: String(p.ratio?.num || 1), inputmode: 'numeric' });
  const den = h('input', { type: 'number', min: 1, max: 10000, value: String(p.ratio?.den || 3), inputmode: 'numeric' });
  const of = h('select', null, ['city', 'county', 'township', 'village'].map((l) => h('option', { value: l, selected: l === (p.ratio?.of || 'village') }, label('level', l))));
  const evReq = h('input', { type: 'checkbox', id: `ev-${orig.id.replace(/\W/g, '_')}`, checked: !!p.evidence_required });
  const evNote = h('input', { type: 'text', value: p.evidence_note || '', maxlength: 500 });
  const dueBox = field(t('due'), due, { name: 'due' });
  const everyBox = field(t('draftPeriod'), every, { name: 'every' });
  const targetBox = field(t('draftTargetLabel'), target, { name: 'target' });
  const ratioBox = h('fieldset', { class: 'ratio', 'data-field': 'ratio' }, h('legend', null, t('draftRatioLabel')),
    h('div', { class: 'ratio-row' }, field(t('draftRatioNum'), num), field(t('draftRatioDen'), den), field(t('draftRatioOf'), of)));
  const showKind = () => {
    const k = kind.value;
    dueBox.hidden = k === 'recurring';
    everyBox.hidden = k !== 'recurring';
    targetBox.hidden = k !== 'count';
    ratioBox.hidden = k !== 'ratio';
  };
  kind.addEventListener('change', showKind);
  showKind();
  const form = h('form', { class: 'proposal-edit action-form', novalidate: true },
    field(t('draftTitleLabel'), title, { name: 'title' }),
    levels,
    field(t('draftUnits'), units, { name: 'units', hint: t('draftUnitsHint') }),
    field(t('kind'), kind, { name: 'kind' }),
    dueBox, everyBox, targetBox, ratioBox,
    h('div', { class: 'check' }, evReq, h('label', { for: evReq.id }, t('draftEvidenceRequired'))),
    field(t('draftEvidenceNote'), evNote, { name: 'evidence_note' }),
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary btn-sm', dataset: { action: 'apply' } }, t('draftApply')),
      h('button', { type: 'button', class: 'btn btn-sm', dataset: { action: 'close' }, onclick: () => { form.remove(); editBtn()?.setAttribute('aria-expanded', 'false'); editBtn()?.focus(); } }, t('cancel'))));
  const editBtn = () => card.querySelector('[data-decide="edit"]');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const n = { ...p, decision: 'edit', title: title.value.trim(), kind: kind.value,
      levels: [...levels.querySelectorAll('input:checked')].map((x) => x.value),
      units: units.value.split(/[\s,，、;；]+/).filter(Boolean),
      evidence_required: evReq.checked, evidence_note: evNote.value.trim() };
    if (n.kind === 'recurring') {
      n.every = every.value;
      if (orig.kind !== 'recurring' || n.every !== orig.every) n.basis = 'stated';
    } else {
      n.due = due.value;
      if (n.due !== orig.due || orig.kind === 'recurring') { n.basis = 'stated'; n.due_note = t('draftDueByReviewer'); }
    }
    if (n.kind === 'count') n.target = Number(target.value) || 0;
    if (n.kind === 'ratio') n.ratio = { num: Number(num.value) || 0, den: Number(den.value) || 0, of: of.value };
    state.items[i] = n;
    drawCard(card, d, state, i);
    state.changed?.();
    announce(t('draftEditedOne', { id: orig.id }));
    editBtn()?.focus();
  });
  card.append(form);
  editBtn()?.setAttribute('aria-expanded', 'true');
  title.focus();
}

// fieldName says a review field in words: ".due" → 期限.
function fieldName(rest) {
  const f = rest.replace(/^\./, '').replace(/\[\d+\].*$/, '').replace(/\..*$/, '');
  const key = { title: 'draftTitleLabel', levels: 'draftLevels', units: 'draftUnits', kind: 'kind', due: 'due', every: 'draftPeriod', basis: 'due',
    due_note: 'dueNote', target: 'draftTargetLabel', ratio: 'draftRatioLabel', evidence_required: 'evidenceReq', evidence_note: 'draftEvidenceNote',
    section: 'section', id: 'draftID', quote: 'quoteLabel', decision: 'draftDecision', notes: 'draftWhy' }[f];
  return key ? t(key) : f;
}

function fieldLabel(e, state) {
  const m = /^proposals\[(\d+)\](.*)$/.exec(e.field || '');
  if (!m) return e.field || '';
  const p = state.items[Number(m[1])] || {};
  return `${t('draftTask', { id: p.id || m[1] })} · ${fieldName(m[2])}`;
}
