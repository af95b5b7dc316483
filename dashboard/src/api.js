// The admin API (docs/http-api.md) as the dashboard uses it. The bearer token, when the node
// requires one, lives in sessionStorage for this tab only and is sent on every call; a 401 sends
// the user to the login page. The dashboard has no other way in.
const KEY = 'meshmq.api-token';

export class AuthError extends Error {}

export function token() {
  return sessionStorage.getItem(KEY) || '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

export async function api(path, { method = 'GET', body, tokenOverride } = {}) {
  const headers = {};
  const t = tokenOverride ?? token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) throw new AuthError('the admin API needs a valid token');
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

// "a/b c" -> "a%2Fb%20c": ids and topics go into one path segment.
export const seg = (s) => encodeURIComponent(s);
