// unitPicker is a text box for a unit of the admin's subtree: type part of
// a name or the start of a code, pick from the list the API suggests
// (GET /units?q=), or type a code. The box shows "名称（代码）"; code()
// reads the code back.
import { api, qs } from './api.js';
import { h } from './dom.js';

let seq = 0;

export function unitPicker({ value = null, placeholder = '', name = '', required = false } = {}) {
  const listId = `unit-options-${++seq}`;
  const list = h('datalist', { id: listId });
  const input = h('input', { type: 'text', list: listId, autocomplete: 'off', spellcheck: 'false', placeholder, name, required,
    value: value ? show(value) : '' });
  input.classList.add('unit-picker');
  let timer = null;
  let asked = '';
  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q || /（\d+）$/.test(q) || q === asked) return;
    timer = setTimeout(async () => {
      asked = q;
      try {
        const r = await api(`/units${qs({ q, limit: 20 })}`);
        list.replaceChildren(...(r.matches || []).map((m) => h('option', { value: show(m) }, m.path_name)));
      } catch { /* suggestions are a help; the server checks the value */ }
    }, 200);
  });
  return {
    input,
    el: h('span', { class: 'unit-picker-wrap' }, input, list),
    // code is the unit's code: the one in （…）, or what was typed.
    code() {
      const v = input.value.trim();
      const m = /（(\d+)）$/.exec(v);
      return m ? m[1] : v;
    },
    set(unit) { input.value = unit ? show(unit) : ''; },
  };
}

function show(u) { return `${u.name}（${u.code}）`; }
