// Small display helpers (local time, Chinese).
function pad(n) {
  return n < 10 ? '0' + n : String(n);
}

// ISO-8601 → "11-29 17:05"
function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  return pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes());
}

// ISO-8601 → "2026-11-29" (local)
function formatDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
}

// How old a location fix is: "刚刚", "25秒前", "3分钟前", "2小时前"
function ageText(iso, now) {
  if (!iso) return '';
  const t = new Date(iso).getTime();
  if (isNaN(t)) return '';
  const s = Math.max(0, Math.round(((now === undefined ? Date.now() : now) - t) / 1000));
  if (s < 5) return '刚刚';
  if (s < 60) return s + '秒前';
  if (s < 3600) return Math.floor(s / 60) + '分钟前';
  return Math.floor(s / 3600) + '小时前';
}

module.exports = { formatTime, formatDate, ageText };
