// Shared state between the shell and the pages: an event bus for live
// notifications and the unread count the bell shows.
export const bus = new EventTarget();

let unread = 0;
export function unreadCount() { return unread; }
export function setUnread(n) {
  if (typeof n !== 'number' || n === unread) return;
  unread = n;
  bus.dispatchEvent(new CustomEvent('unread', { detail: n }));
}

// Timers a page starts; the router stops them when the page is left.
let timers = [];
export function every(ms, fn) {
  timers.push(setInterval(fn, ms));
}
export function stopTimers() {
  timers.forEach(clearInterval);
  timers = [];
}

// onBus subscribes a page to bus events until it is left.
let subs = [];
export function onBus(type, fn) {
  bus.addEventListener(type, fn);
  subs.push([type, fn]);
}
export function dropSubs() {
  for (const [type, fn] of subs) bus.removeEventListener(type, fn);
  subs = [];
}

// hasPerm reads the permissions GET /me lists (menus follow them).
export function hasPerm(user, p) { return !!user?.permissions?.includes(p); }
export function hasRole(user, r) { return !!user?.roles?.some((x) => x.role === r); }
