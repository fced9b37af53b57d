// REST calls with the staff token (kept in sessionStorage: gone when the tab closes).

const TOKEN_KEY = "orderhub.console.token";
const USER_KEY = "orderhub.console.user";

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  get user() {
    try { return JSON.parse(sessionStorage.getItem(USER_KEY) || "null"); } catch { return null; }
  },
  save(token, user) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
};

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.code = err.code || "http_error";
    this.details = err; // e.g. sms_code_required's phone and retryAfter
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(fn) { onUnauthorized = fn; }

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit", cache: "no-store",
  });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (res.status === 401 && session.token) onUnauthorized();
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Every page of a list route (`{items, total}`), up to `max` items. */
export async function all(path, max = 500) {
  const items = [];
  for (let page = 1; items.length < max; page += 1) {
    const sep = path.includes("?") ? "&" : "?";
    const body = await api("GET", `${path}${sep}page=${page}&limit=100`);
    items.push(...body.items);
    if (body.items.length < 100 || items.length >= body.total) break;
  }
  return items;
}

/** A staff-only file (an export): fetched with the token, saved through a blob link (a plain
 * link would not carry the Authorization header). Returns the file name. */
export async function download(path) {
  const headers = { Authorization: `Bearer ${session.token}` };
  const res = await fetch(path, { headers, credentials: "omit", cache: "no-store" });
  if (!res.ok) {
    const data = await res.json().catch(() => null);
    if (res.status === 401) onUnauthorized();
    throw new ApiError(res.status, data);
  }
  const match = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
  const name = match ? match[1] : path.split("/").pop().split("?")[0];
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}
