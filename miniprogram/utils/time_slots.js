// The order form's appointment times (seed 003: now, or a time slot): the next 7 days, each
// in two-hour slots from 08:00 to 20:00 local time; today only the slots that start at least
// an hour from now (a provider needs the time to get there). The hub takes the slot's start
// as `scheduledAt` (ISO-8601 UTC) and starts dispatch ahead of it.
const DAYS = 7;
const FIRST_HOUR = 8;
const LAST_HOUR = 20;
const SLOT_HOURS = 2;
const LEAD_MS = 60 * 60 * 1000;
const WEEKDAYS = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];

const pad = (n) => (n < 10 ? '0' + n : String(n));

function slotsOf(day, now) {
  const out = [];
  for (let h = FIRST_HOUR; h + SLOT_HOURS <= LAST_HOUR; h += SLOT_HOURS) {
    const start = new Date(day.getFullYear(), day.getMonth(), day.getDate(), h, 0, 0, 0);
    if (start.getTime() - now.getTime() < LEAD_MS) continue;
    out.push({ label: pad(h) + ':00-' + pad(h + SLOT_HOURS) + ':00', startAt: start.toISOString() });
  }
  return out;
}

// [{label: '今天 11-29', slots: [{label: '14:00-16:00', startAt}]}], days without a slot left out
function schedule(nowMs) {
  const now = new Date(nowMs === undefined ? Date.now() : nowMs);
  const out = [];
  for (let i = 0; i < DAYS; i++) {
    const day = new Date(now.getFullYear(), now.getMonth(), now.getDate() + i);
    const name = i === 0 ? '今天' : i === 1 ? '明天' : WEEKDAYS[day.getDay()];
    const slots = slotsOf(day, now);
    if (slots.length) out.push({ label: name + ' ' + pad(day.getMonth() + 1) + '-' + pad(day.getDate()), slots });
  }
  return out;
}

module.exports = { schedule, LEAD_MS };
