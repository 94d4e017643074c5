// Plans and their sections, read once per page load: the filters of the
// task list and the board offer the sections of the plan year shown.
import { api } from './api.js';

let plans = null;
const templates = new Map();

export async function planYears() {
  plans ??= api('/plans').catch((e) => { plans = null; throw e; });
  const p = await plans;
  return p.launched || [];
}

export async function storedPlans() {
  plans ??= api('/plans').catch((e) => { plans = null; throw e; });
  return (await plans).items || [];
}

export function forgetPlans() { plans = null; templates.clear(); }

export async function planTemplates(planId) {
  if (!planId) return [];
  if (!templates.has(planId)) {
    templates.set(planId, api(`/plans/${encodeURIComponent(planId)}`).then((r) => r.templates || []).catch((e) => { templates.delete(planId); throw e; }));
  }
  return templates.get(planId);
}

// sections lists a plan's sections in file order: [{id, title}].
export async function sections(planId) {
  const seen = new Map();
  for (const tpl of await planTemplates(planId)) if (!seen.has(tpl.section)) seen.set(tpl.section, tpl.section_title);
  return [...seen].map(([id, title]) => ({ id, title }));
}
