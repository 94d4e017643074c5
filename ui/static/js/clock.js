// Plan time. Deadlines and countdowns follow the plan clock, which in a
// demo runs faster than real time: GET /api/v1/clock gives the plan time
// at a moment and the scale, and plan time now is
// now + (Date.now() − fetched_at) × scale (docs/api.md, Conventions).
let base = { plan: Date.now(), real: Date.now(), scale: 1, demo: false };

export function setClock(c) {
  if (!c || !c.now) return;
  base = { plan: Date.parse(c.now), real: Date.now(), scale: c.scale || 1, demo: !!c.demo };
}

export async function syncClock() {
  try {
    const res = await fetch('/api/v1/clock', { headers: { Accept: 'application/json' } });
    if (res.ok) setClock(await res.json());
  } catch { /* keep the last one */ }
}

export function planNow() { return base.plan + (Date.now() - base.real) * base.scale; }
export function clockInfo() { return { ...base }; }
