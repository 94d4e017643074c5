// pagedList shows a keyset-paginated API list: the first page, a "load
// more" button while next_cursor is set, an empty state, and a reload that
// keeps as many rows as are shown (for periodic and live refreshes).
import { h, empty, errorBox, pager, put } from './dom.js';

export function pagedList({ container, fetchPage, renderItem, emptyText, makeList, pageSize = 20, onLoaded }) {
  let count = 0;
  let loading = null;

  const build = makeList || (() => {
    const ul = h('ul', { class: 'plain-list' });
    return { root: ul, body: ul };
  });

  async function show(limit) {
    const { root, body } = build();
    const foot = h('div', { class: 'list-foot' });
    let shown = 0;
    async function more(cursor, lim) {
      const page = await fetchPage({ cursor, limit: lim || pageSize });
      for (const it of page.items) body.append(renderItem(it));
      shown += page.items.length;
      count = shown;
      put(foot, pager({ count: shown, next: page.next_cursor, onMore: (c) => more(c).catch((e) => put(foot, errorBox(e))) }));
      return page;
    }
    const page = await more(undefined, limit);
    if (!page.items.length) {
      put(container, empty(typeof emptyText === 'function' ? emptyText() : emptyText));
    } else {
      put(container, root, foot);
    }
    onLoaded?.(page);
  }

  return {
    async load() {
      if (loading) return loading;
      loading = show(pageSize).catch((e) => { put(container, errorBox(e, () => this.load())); }).finally(() => { loading = null; });
      return loading;
    },
    // reload re-reads the list, as many rows as are shown (at most 200).
    async reload() {
      if (loading) return loading;
      loading = show(Math.min(200, Math.max(pageSize, count))).catch(() => { /* keep what is shown */ }).finally(() => { loading = null; });
      return loading;
    },
    count: () => count,
  };
}

// table builds a table with a caption and column headers for pagedList.
export function table(caption, columns, cls) {
  const body = h('tbody');
  const root = h('div', { class: 'table-wrap' },
    h('table', { class: ['data', cls] },
      h('caption', { class: caption.visible ? '' : 'sr-only' }, caption.text || caption),
      h('thead', null, h('tr', null, columns.map((c) => (typeof c === 'string' ? h('th', { scope: 'col' }, c) : h('th', { scope: 'col', class: c.class }, c.label || c.node))))),
      body));
  return { root, body };
}

// cell is a table cell that also names its column, for the stacked layout
// on phones.
export function cell(labelText, ...children) {
  return h('td', { 'data-label': labelText }, h('div', { class: 'cell-v' }, children));
}
