// 考核 (supervisors, admins): for their unit or one under it
// (#/scores/{code}), as of a day: the ranking of the units directly under
// it (each a link one level down), the unit's own score with every line of
// its explanation (each task a link to its page, with the timeline events
// behind it), the ranking as Excel and the 考核通报 as PDF, and the bonus
// awards: given with a form, revoked with a reason.
// Calls: GET /scores, GET /scores/ranking, GET /scores/ranking/export,
// GET /scores/report, GET /scores/awards, POST /scores/awards,
// POST /scores/awards/{id}/revoke.
import { api, qs, session, download } from '../api.js';
import { t } from '../i18n.js';
import { h, field, fmtDate, fmtDateTime, pageHeader, taskHref, toast, announce, empty, showFormError, clearErrors, busy, put, icon, ymd } from '../dom.js';
import { table, cell } from '../list.js';
import { planNow } from '../clock.js';
import { pageScope, crumbs } from '../scope.js';

export async function render(main, { params, query }) {
  const me = session.user;
  const { unit, plan, year, years } = await pageScope(params, query, me);
  const asOf = query.get('as_of') || ymd(planNow());
  const scope = { unit, plan, year, as_of: asOf };
  if (!plan) {
    put(main, pageHeader(t('scoresTitle'), t('scoresLead', { unit: me.unit.name, date: asOf })), empty(t('scoresNoPlan')));
    return;
  }

  let score;
  try {
    score = await api(`/scores${qs(scope)}`);
  } catch (e) {
    // A plan year without 考核 rules (or a bad day) says so, with the
    // controls to choose another.
    if (e.status !== 422) throw e;
    put(main, pageHeader(t('scoresTitle'), t('scoresLead', { unit: me.unit.name, date: asOf })), controls(years, scope),
      h('div', { class: 'alert alert-warn', role: 'alert' }, h('p', null, e.message)));
    return;
  }
  const hasChildren = score.unit.level !== 'township';
  const [ranking, awards] = await Promise.all([
    hasChildren ? api(`/scores/ranking${qs(scope)}`) : null,
    api(`/scores/awards${qs({ unit, plan: scope.plan, year: scope.year })}`),
  ]);
  const name = score.unit.name;
  const fileBtn = (id, text, path, fallback) => {
    const b = h('button', { type: 'button', class: 'btn', id }, icon('file'), h('span', null, text));
    b.addEventListener('click', async () => {
      b.disabled = true;
      try {
        const file = await download(path, fallback);
        toast(t('exported', { name: file }), 'ok');
        b.dataset.downloaded = file;
      } catch (e) {
        toast(e.message, 'error');
      } finally {
        b.disabled = false;
      }
    });
    return b;
  };
  const actions = [fileBtn('score-pdf', t('scoreUnitPDF'), `/scores/report${qs(scope)}`, 'score.pdf')];
  if (ranking?.rows.length) {
    actions.unshift(
      fileBtn('ranking-xlsx', t('scoreRankingXLSX'), `/scores/ranking/export${qs({ ...scope, format: 'xlsx' })}`, 'ranking.xlsx'),
      fileBtn('ranking-pdf', t('scoreRankingPDF'), `/scores/ranking/export${qs({ ...scope, format: 'pdf' })}`, 'ranking.pdf'));
  }

  put(main,
    crumbs(score.path || [], me.unit.code, (code) => scoresHref(code, scope)),
    pageHeader(`${t('scoresTitle')} · ${name}`, t('scoresLead', { unit: name, date: score.as_of }), ...actions),
    controls(years, scope),
    ranking?.rows.length ? rankingCard(ranking, scope) : null,
    unitCard(score),
    awardsCard(awards, score, ranking, scope, me, () => render(main, { params, query })));
}

function scoresHref(code, scope) {
  const p = new URLSearchParams();
  if (scope.plan) p.set('py', `${scope.plan}:${scope.year}`);
  if (scope.as_of) p.set('as_of', scope.as_of);
  return `#/scores/${code}?${p}`;
}

// controls choose the day scored and the plan year.
function controls(years, scope) {
  const day = h('input', { type: 'date', name: 'as_of', value: scope.as_of, min: '2000-01-01', max: '2100-12-31' });
  const py = years.length > 1
    ? h('select', { name: 'py' }, years.map((y) => h('option', { value: `${y.plan_id}:${y.year}`, selected: y.plan_id === scope.plan && String(y.year) === String(scope.year) }, `${y.plan_id} · ${y.year}`)))
    : null;
  const form = h('form', { class: 'filters score-controls', role: 'search', 'aria-label': t('scoresControls') },
    field(t('scoreAsOf'), day, { name: 'as_of', hint: t('scoreAsOfHint') }),
    py ? field(t('planYear'), py, { name: 'py' }) : null,
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('apply'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const [plan, year] = (py?.value || `${scope.plan}:${scope.year}`).split(':');
    location.hash = scoresHref(scope.unit, { plan, year, as_of: day.value });
  });
  return form;
}

function rankingCard(r, scope) {
  const { root, body } = table({ text: t('scoreRankingTitle', { unit: r.parent.name }), visible: true },
    [t('colRank'), t('colChild'), t('scoreTotal'), t('scoreOnTime'), t('scoreLate'), t('scoreNotDone'), t('scoreNotYetDue'), t('scoreAdjust')], 'score-ranking');
  for (const row of r.rows) {
    body.append(h('tr', { dataset: { unit: row.unit.code } },
      cell(t('colRank'), h('span', { class: 'rank-text' }, row.rank_text)),
      cell(t('colChild'), h('a', { href: scoresHref(row.unit.code, scope) }, row.unit.name)),
      cell(t('scoreTotal'), h('strong', { class: 'score-total' }, row.total)),
      cell(t('scoreOnTime'), String(row.counts.on_time)),
      cell(t('scoreLate'), String(row.counts.late)),
      cell(t('scoreNotDone'), h('span', { class: row.counts.not_done ? 'bad' : '' }, String(row.counts.not_done))),
      cell(t('scoreNotYetDue'), String(row.counts.not_yet_due)),
      cell(t('scoreAdjust'), signed(row.adjustments))));
  }
  return h('section', { class: 'card', 'aria-labelledby': 'rank-caption' }, root, h('p', { class: 'muted small tie-rule' }, r.tie_rule));
}

function signed(p) {
  return p && !String(p).startsWith('-') && p !== '0' ? `+${p}` : String(p);
}

function unitCard(s) {
  const c = s.counts;
  const { root, body } = table({ text: t('scoreLinesTitle'), visible: true }, [t('scorePoints'), t('scoreRule'), t('colTask'), t('scoreText'), t('scoreBasis')], 'score-lines');
  for (const l of s.lines) {
    body.append(h('tr', { dataset: { rule: l.rule, task: l.task || '' } },
      cell(t('scorePoints'), h('span', { class: ['points', l.points.startsWith('-') ? 'bad' : ''] }, signed(l.points))),
      cell(t('scoreRule'), l.rule_label),
      cell(t('colTask'), l.task
        ? h('a', { href: taskHref(l.task), class: 'line-task' }, `${l.template_id} ${l.title}`)
        : (l.award ? t('scoreAward', { id: l.award }) : '—')),
      cell(t('scoreText'), l.text),
      cell(t('scoreBasis'), l.events.length
        ? h('ul', { class: 'line-events' }, l.events.map((e) => h('li', null,
          h('a', { href: taskHref(l.task) }, `#${e.seq}`), ` ${e.kind_label} `, h('time', { datetime: e.at }, fmtDate(e.at)))))
        : '')));
  }
  return h('section', { class: 'card unit-score', 'aria-labelledby': 'unit-score-h' },
    h('h2', { id: 'unit-score-h' }, t('scoreUnitTitle', { unit: s.unit.name })),
    h('div', { class: 'score-head' },
      h('p', { class: 'score-big' }, h('span', { class: 'score-value', id: 'score-total' }, s.total), h('span', { class: 'muted' }, t('scorePointsUnit'))),
      h('div', null,
        s.place ? h('p', { class: 'score-place' }, t('scorePlace', { parent: s.place.parent.name, of: s.place.of, text: s.place.text })) : null,
        h('p', { class: 'muted small' }, t('scoreCounts', c)),
        s.attainable !== '0' ? h('p', { class: 'muted small' }, t('scoreEarned', { earned: s.earned, attainable: s.attainable })) : null)),
    s.lines.length ? root : empty(t('scoreNoLines')));
}

// awardsCard lists the awards under the unit and gives one: to the unit
// itself when it is below the caller's, or to a unit under it.
function awardsCard(a, s, ranking, scope, me, refresh) {
  const targets = [];
  if (s.unit.code !== me.unit.code) targets.push(s.unit);
  for (const r of ranking?.rows || []) targets.push(r.unit);
  const { root, body } = table(t('awardsTitle'),
    [t('colTime'), t('colChild'), t('awardItem'), t('scorePoints'), t('dReason'), t('awardBy'), ''], 'awards');
  const items = new Map(a.bonus.map((b) => [b.id, b]));
  const dialog = revokeDialog(refresh);
  for (const x of a.items) {
    const revoked = !!x.revoked_at;
    body.append(h('tr', { dataset: { award: String(x.id) }, class: revoked ? 'revoked' : null },
      cell(t('colTime'), fmtDateTime(x.at)),
      cell(t('colChild'), x.unit_name),
      cell(t('awardItem'), items.get(x.bonus_id)?.title || x.bonus_id),
      cell(t('scorePoints'), signed(x.points)),
      cell(t('dReason'), x.reason, revoked ? h('span', { class: 'muted small block' }, t('awardRevoked', { who: x.revoked_by_name, reason: x.revoke_reason })) : null),
      cell(t('awardBy'), x.awarded_by),
      h('td', { class: 'row-actions' }, !revoked && x.unit_code !== me.unit.code
        ? h('button', { type: 'button', class: 'btn btn-sm btn-danger', dataset: { action: 'revoke' }, onclick: (e) => dialog.open(x, e.currentTarget) }, t('awardRevoke'))
        : null)));
  }
  return h('section', { class: 'card', 'aria-labelledby': 'awards-h' },
    h('h2', { id: 'awards-h' }, t('awardsTitle')),
    a.items.length ? root : h('p', { class: 'muted' }, t('awardsNone')),
    a.bonus.length && targets.length ? awardForm(a.bonus, targets, scope, refresh) : null,
    dialog.el);
}

function awardForm(bonus, targets, scope, refresh) {
  const unit = h('select', null, targets.map((u) => h('option', { value: u.code }, u.name)));
  const item = h('select', null, bonus.map((b) => h('option', { value: b.id }, t('awardItemOption', { title: b.title, points: signed(b.points), max: b.max ? signed(b.max) : '—' }))));
  const points = h('input', { type: 'number', step: '0.01', inputmode: 'decimal', value: bonus[0].points });
  const reason = h('textarea', { rows: 3, maxlength: 1000 });
  item.addEventListener('change', () => { points.value = bonus.find((b) => b.id === item.value)?.points || ''; });
  const form = h('form', { class: 'action-form award-form', id: 'award-form', novalidate: true },
    h('h3', null, t('awardGive')),
    h('div', { class: 'award-row' }, field(t('colChild'), unit, { name: 'unit' }), field(t('awardItem'), item, { name: 'bonus_id' }),
      field(t('scorePoints'), points, { name: 'points', hint: t('awardPointsHint') })),
    field(t('dReason'), reason, { name: 'reason', required: true }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('awardSubmit'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    await busy(form, async () => {
      try {
        await api('/scores/awards', { method: 'POST', json: { unit: unit.value, bonus_id: item.value, points: points.value, reason: reason.value, plan: scope.plan, year: Number(scope.year) || 0 } });
        const msg = t('awardDone');
        toast(msg, 'ok');
        announce(msg);
        await refresh();
      } catch (err) {
        showFormError(form, err);
      }
    });
  });
  return form;
}

function revokeDialog(refresh) {
  const reason = h('textarea', { rows: 3, maxlength: 1000, required: true });
  const heading = h('h2', { id: 'revoke-title' });
  const form = h('form', { novalidate: true, class: 'dialog-form' },
    heading, field(t('awardRevokeReason'), reason, { name: 'reason', required: true }),
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn btn-danger', id: 'revoke-confirm' }, t('awardRevoke')),
      h('button', { type: 'button', class: 'btn', onclick: () => el.close() }, t('cancel'))));
  const el = h('dialog', { class: 'dialog', 'aria-labelledby': 'revoke-title' }, form);
  let current = null;
  let opener = null;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    await busy(form, async () => {
      try {
        await api(`/scores/awards/${current.id}/revoke`, { method: 'POST', json: { reason: reason.value } });
        toast(t('awardRevokedDone'), 'ok');
        el.close();
        await refresh();
      } catch (err) {
        showFormError(form, err);
      }
    });
  });
  el.addEventListener('close', () => { opener?.focus?.(); });
  return {
    el,
    open(x, from) {
      current = x;
      opener = from;
      heading.textContent = t('awardRevokeTitle', { unit: x.unit_name, points: signed(x.points) });
      reason.value = '';
      clearErrors(form);
      el.showModal();
      reason.focus();
    },
  };
}
