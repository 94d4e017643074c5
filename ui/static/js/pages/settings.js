// 设置: one's own notification settings — where notices go (email,
// mobile, DingTalk/WeCom ids, a work group), which channels each kind of
// notice uses, the daily digest and quiet hours. Channels the server has
// not configured are shown, greyed out, as unavailable.
// Calls: GET /me/settings, PUT /me/settings.
import { api, session } from '../api.js';
import { hasPerm } from '../state.js';
import { lang } from '../i18n.js';
import { h, field, pageHeader, showFormError, clearErrors, busy, toast, announce, put } from '../dom.js';

const L = {
  zh: {
    title: '设置', lead: '通知除站内消息外还可以发到哪里、何时发送。紧急通知（如催办）不受免打扰和每日汇总限制。',
    contact: '联系方式', email: '接收通知的邮箱', emailHint: '留空则不发邮件；账号邮箱：{e}', mobile: '手机号',
    mobileHint: '钉钉群里 @ 您，以及短信通知使用', dingtalk: '钉钉 userid', wecom: '企业微信 UserID', webhook: '工作群',
    noWebhook: '不使用', channelsTitle: '各类通知的接收渠道', channelsLead: '站内消息总会收到；勾选的渠道另外发送。',
    kind: '通知类型', unavailable: '未配置', timing: '每日汇总与免打扰', digest: '每日汇总', digestDefault: '系统默认（{v}）',
    on: '开', off: '关', digestHour: '汇总时间', quietStart: '免打扰开始', quietEnd: '免打扰结束', dflt: '系统默认（{v}）',
    hour: '{h}:00', effective: '当前生效：{digest}；免打扰 {quiet}', effDigestOn: '每天 {h}:00 汇总非紧急通知',
    effDigestOff: '逐条发送', quietNone: '无', save: '保存设置', saved: '设置已保存', unavailableNote: '以下渠道本系统尚未配置，暂不可用：',
    deliveries: '查看本单位及下级单位的投递记录',
  },
  en: {
    title: 'Settings', lead: 'Where notices go besides the inbox, and when. Urgent notices (urges) ignore quiet hours and the digest.',
    contact: 'Contact', email: 'Email for notices', emailHint: 'Empty: no email. Account email: {e}', mobile: 'Mobile',
    mobileHint: '@-mentioned in DingTalk groups; used for SMS', dingtalk: 'DingTalk userid', wecom: 'WeCom UserID', webhook: 'Work group',
    noWebhook: 'None', channelsTitle: 'Channels for each kind of notice', channelsLead: 'The inbox always gets them; ticked channels get them too.',
    kind: 'Kind', unavailable: 'not configured', timing: 'Digest and quiet hours', digest: 'Daily digest', digestDefault: 'Default ({v})',
    on: 'On', off: 'Off', digestHour: 'Digest at', quietStart: 'Quiet from', quietEnd: 'Quiet until', dflt: 'Default ({v})',
    hour: '{h}:00', effective: 'Now in force: {digest}; quiet hours {quiet}', effDigestOn: 'a digest of non-urgent notices at {h}:00',
    effDigestOff: 'one by one', quietNone: 'none', save: 'Save settings', saved: 'Settings saved', unavailableNote: 'Not configured on this server:',
    deliveries: 'Deliveries to the people of your units',
  },
};
const tr = (k, vars = {}) => (lang() === 'en' ? L.en : L.zh)[k].replace(/\{(\w+)\}/g, (_, x) => String(vars[x] ?? ''));
const hh = (n) => tr('hour', { h: String(n).padStart(2, '0') });

export async function render(main) {
  const s = await api('/me/settings');
  put(main, header(), form(s, main));
}

// header is the page's title, and for admins the way to 投递记录 (on a
// phone the bottom bar has no room for it).
function header() {
  const link = hasPerm(session.user, 'deliveries') ? h('a', { class: 'btn', href: '#/deliveries', id: 'settings-deliveries' }, tr('deliveries')) : null;
  return pageHeader(tr('title'), tr('lead'), link);
}

function form(s, main) {
  const avail = Object.fromEntries(s.channels.map((c) => [c.channel, c]));
  const text = (name, value, opts = {}) => h('input', { type: opts.type || 'text', id: `set-${name}`, value: value || '', autocomplete: opts.ac || 'off',
    spellcheck: 'false', disabled: opts.disabled, inputmode: opts.inputmode });
  const email = text('email', s.email, { type: 'email', ac: 'email', disabled: !avail.email.available });
  const mobile = text('mobile', s.mobile, { type: 'tel', ac: 'tel', inputmode: 'tel' });
  const ding = text('dingtalk_userid', s.dingtalk_userid, { disabled: !avail.dingtalk.available });
  const wecom = text('wecom_userid', s.wecom_userid, { disabled: !avail.wecom.available });
  const webhook = h('select', { id: 'set-webhook', disabled: !avail.webhook.available },
    h('option', { value: '' }, tr('noWebhook')), s.webhooks.map((w) => h('option', { value: w, selected: w === s.webhook }, w)));

  // The matrix: a row per kind of notice, a column per channel.
  const boxes = [];
  const matrix = h('div', { class: 'table-wrap' }, h('table', { class: 'data settings-matrix', id: 'channel-matrix' },
    h('caption', null, tr('channelsTitle')),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, tr('kind')),
      s.channels.map((c) => h('th', { scope: 'col', class: c.available ? '' : 'muted' }, c.label,
        c.available ? null : h('span', { class: 'small block' }, `（${tr('unavailable')}）`))))),
    h('tbody', null, s.kind_options.map((k) => h('tr', null, h('th', { scope: 'row' }, k.label),
      s.channels.map((c) => {
        const box = h('input', { type: 'checkbox', id: `ch-${k.kind}-${c.channel}`, disabled: !c.available,
          checked: (s.kinds[k.kind] || []).includes(c.channel), 'aria-label': `${k.label} · ${c.label}`, dataset: { kind: k.kind, channel: c.channel } });
        boxes.push(box);
        return h('td', { class: 'center' }, box);
      }))))));
  const missing = s.channels.filter((c) => !c.available);

  const hourSelect = (id, value, dflt) => h('select', { id },
    h('option', { value: '' }, tr('dflt', { v: hh(dflt) })),
    Array.from({ length: 24 }, (_, i) => h('option', { value: String(i), selected: value === i }, hh(i))));
  const digest = h('select', { id: 'set-digest' },
    h('option', { value: '' }, tr('digestDefault', { v: s.defaults.digest ? tr('on') : tr('off') })),
    h('option', { value: 'on', selected: s.digest === true }, tr('on')), h('option', { value: 'off', selected: s.digest === false }, tr('off')));
  const digestHour = hourSelect('set-digest_hour', s.digest_hour, s.defaults.digest_hour);
  const quietStart = hourSelect('set-quiet_start', s.quiet_start, s.defaults.quiet_start);
  const quietEnd = hourSelect('set-quiet_end', s.quiet_end, s.defaults.quiet_end);
  const e = s.effective;
  const effective = h('p', { class: 'muted', id: 'settings-effective' }, tr('effective', {
    digest: e.digest ? tr('effDigestOn', { h: String(e.digest_hour).padStart(2, '0') }) : tr('effDigestOff'),
    quiet: e.quiet_start === e.quiet_end ? tr('quietNone') : `${hh(e.quiet_start)}–${hh(e.quiet_end)}`,
  }));

  const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'settings-save' }, tr('save'));
  const status = h('p', { class: 'muted', id: 'settings-status', role: 'status' });
  const f = h('form', { class: 'card settings-form', id: 'settings-form', novalidate: true },
    h('fieldset', null, h('legend', null, tr('contact')),
      field(tr('email'), email, { name: 'email', hint: tr('emailHint', { e: s.account_email || '—' }) }),
      field(tr('mobile'), mobile, { name: 'mobile', hint: tr('mobileHint') }),
      field(tr('dingtalk'), ding, { name: 'dingtalk_userid', hint: avail.dingtalk.available ? null : avail.dingtalk.note }),
      field(tr('wecom'), wecom, { name: 'wecom_userid', hint: avail.wecom.available ? null : avail.wecom.note }),
      field(tr('webhook'), webhook, { name: 'webhook', hint: avail.webhook.available ? null : avail.webhook.note })),
    h('fieldset', { dataset: { field: 'kinds' } }, h('legend', null, tr('channelsTitle')), h('p', { class: 'muted small' }, tr('channelsLead')),
      missing.length ? h('p', { class: 'hint', id: 'channels-unavailable' }, tr('unavailableNote'), ' ', missing.map((c) => c.label).join('、')) : null,
      matrix),
    h('fieldset', null, h('legend', null, tr('timing')),
      field(tr('digest'), digest, { name: 'digest' }), field(tr('digestHour'), digestHour, { name: 'digest_hour' }),
      field(tr('quietStart'), quietStart, { name: 'quiet_start' }), field(tr('quietEnd'), quietEnd, { name: 'quiet_end' }),
      effective),
    h('div', { class: 'form-actions' }, saveBtn), status);

  const num = (sel) => (sel.value === '' ? null : Number(sel.value));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const kinds = {};
    for (const k of s.kind_options) kinds[k.kind] = [];
    for (const b of boxes) if (b.checked && !b.disabled) kinds[b.dataset.kind].push(b.dataset.channel);
    const body = {
      email: email.value.trim(), mobile: mobile.value.trim(), dingtalk_userid: ding.value.trim(), wecom_userid: wecom.value.trim(),
      webhook: webhook.value, kinds, digest: digest.value === '' ? null : digest.value === 'on',
      digest_hour: num(digestHour), quiet_start: num(quietStart), quiet_end: num(quietEnd),
    };
    busy(f, async () => {
      try {
        const saved = await api('/me/settings', { method: 'PUT', json: body });
        clearErrors(f);
        put(main, header(), form(saved, main));
        const st = document.getElementById('settings-status');
        if (st) st.textContent = tr('saved');
        toast(tr('saved'), 'info');
        announce(tr('saved'));
      } catch (err) {
        if (err.status === 422 || err.status === 400) showFormError(f, err); else toast(err.message, 'error');
      }
    });
  });
  return f;
}
