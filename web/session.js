// Who is signed in: the session cookie (set by the API, HttpOnly, shared by every tab of this
// browser) or an API key kept in this tab. The state comes from GET /api/v1/session, which
// also says how one may sign in and hands out the CSRF token changes must carry.
import { api, key, setCsrf, setKey } from './api.js';
import { t } from './i18n.js';

let state = null; // Promise of { user, csrfToken, methods, … }
const listeners = new Set();

/** The current session state, fetched once and again after every change. */
export function session() {
  if (state) return state;
  const asked = api('/api/v1/session')
    .catch((error) => {
      // A key this tab kept was revoked meanwhile: forget it and ask as nobody.
      if (error.code !== 'STADTFUNK_ERR_BAD_KEY' || !key()) throw error;
      setKey(null);
      return api('/api/v1/session');
    })
    .then((s) => {
      setCsrf(s.csrfToken);
      return s;
    });
  asked.catch(() => { if (state === asked) state = null; });
  state = asked;
  return asked;
}

/** Fetches the session again and tells every listener (the user menu, waiting views). */
export async function refreshSession() {
  state = null;
  const s = await session();
  for (const fn of listeners) fn(s);
  return s;
}

export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Signs in with user name and password; rejects with the API's error (code, retryAfterS). */
export async function signIn(username, password) {
  setKey(null);
  await api('/api/v1/session', { method: 'POST', body: { username, password } });
  return refreshSession();
}

/** Uses an API key for this tab; rejects when the API does not know it. */
export async function useKey(value) {
  setKey(value.trim());
  const s = await refreshSession().catch((error) => {
    setKey(null);
    throw error;
  });
  if (!s.user) {
    setKey(null);
    throw Object.assign(new Error(t('auth.err.badKey')), { code: 'STADTFUNK_ERR_BAD_KEY' });
  }
  return s;
}

export async function signOut({ everywhere = false } = {}) {
  const s = await session();
  if (s.user && s.user.via !== 'api_key') await api(everywhere ? '/api/v1/sessions' : '/api/v1/session', { method: 'DELETE' });
  setKey(null);
  return refreshSession();
}

// Another request answered 401 (the session expired, or was ended in another tab): ask again.
window.addEventListener('stadtfunk:unauthenticated', (event) => {
  if (state && event.detail?.path !== '/api/v1/session') refreshSession().catch(() => undefined);
});

/** t() with {placeholders}. */
export function tf(textKey, values = {}) {
  return t(textKey).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
}

/** The message for an API error or an OIDC callback reason, in the chosen language. */
export function authErrorText(error, methods) {
  const code = typeof error === 'string' ? error : error.code;
  const minutes = Math.max(1, Math.ceil((error.retryAfterS ?? 60) / 60));
  const textKey = `auth.err.${code}`;
  const text = tf(textKey, { minutes, name: methods?.oidc?.name ?? '' });
  return text === textKey ? (error.message ?? String(error)) : text;
}
