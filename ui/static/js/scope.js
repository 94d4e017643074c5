// The unit and plan year a supervisor's page is about (#/…/{unit}?py=
// plan:year), and the breadcrumbs up to that unit. The 考核 page uses them;
// the board has the same lines of its own.
import { t } from './i18n.js';
import { h } from './dom.js';
import { planYears } from './plans-cache.js';

// pageScope reads the unit (default the caller's) and the plan year
// (default the latest launched), with the plan years to choose from.
export async function pageScope(params, query, me) {
  const unit = params[0] || me.unit.code;
  const years = await planYears().catch(() => []);
  let [plan, year] = (query.get('py') || '').split(':');
  if (!plan && years[0]) ({ plan_id: plan, year } = years[0]);
  return { unit, plan: plan || '', year: year || '', years };
}

// crumbs links each unit of the path the caller may see (hrefOf(code)).
export function crumbs(path, myCode, hrefOf) {
  if (path.length < 2) return null;
  return h('nav', { class: 'crumbs', 'aria-label': t('breadcrumb') }, h('ol', null, path.map((u, i) => {
    const last = i === path.length - 1;
    const inScope = u.code.startsWith(myCode);
    return h('li', null, !last && inScope ? h('a', { href: hrefOf(u.code) }, u.name) : h('span', { 'aria-current': last ? 'page' : null }, u.name));
  })));
}
