// Talking to the stadtfunk API as the signed-in user (session cookie, sent by the browser) or
// with an API key. Errors are ApiError with the API's status, code and details, so views can
// say them in the chosen language (i18n errorText).
export const key = () => sessionStorage.getItem('stadtfunk.key');
export const setKey = (k) => (k ? sessionStorage.setItem('stadtfunk.key', k) : sessionStorage.removeItem('stadtfunk.key'));
// The session's CSRF token (web/session.js sets it): every change made with the cookie sends it.
let csrf = null;
export const setCsrf = (token) => { csrf = token; };

export class ApiError extends Error {
  constructor({ status = 0, code = null, details = null, message = '', network = false, retryAfterS = null }) {
    super(message || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.network = network;
    this.retryAfterS = retryAfterS;
  }
}

export async function api(path, { method = 'GET', body, headers = {}, signal } = {}) {
  let res;
  try {
    res = await fetch(path, {
      method,
      signal,
      headers: { ...(key() ? { authorization: `Bearer ${key()}` } : {}), ...(csrf && method !== 'GET' ? { 'x-csrf-token': csrf } : {}), ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new ApiError({ network: true, message: String(error?.message ?? error) });
  }
  const text = await res.text();
  let json = text;
  if (text && res.headers.get('content-type')?.includes('json')) {
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
  }
  if (res.status === 401) window.dispatchEvent(new CustomEvent('stadtfunk:unauthenticated', { detail: { path } }));
  if (!res.ok) throw new ApiError({ status: res.status, code: json?.code ?? null, details: json?.details ?? null, message: json?.message ?? '', retryAfterS: Number(res.headers.get('retry-after')) || null });
  return json;
}

/** Server-Sent Events with the key in a header (EventSource cannot send one); reconnects with Last-Event-ID. */
export function liveStream(path, onEvent, onState) {
  let lastId = null;
  let stopped = false;
  const controller = new AbortController();
  (async function connect() {
    while (!stopped) {
      try {
        const res = await fetch(path, { headers: { ...(key() ? { authorization: `Bearer ${key()}` } : {}), ...(lastId ? { 'last-event-id': String(lastId) } : {}) }, signal: controller.signal });
        onState?.('live');
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let i;
          while ((i = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, i);
            buffer = buffer.slice(i + 2);
            const id = /^id: (\d+)$/m.exec(block);
            const data = /^data: (.*)$/m.exec(block);
            if (id) lastId = Number(id[1]);
            if (data && /^event: reading$/m.test(block)) onEvent(JSON.parse(data[1]));
          }
        }
      } catch {
        if (stopped) return;
      }
      onState?.('disconnected');
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
  return () => {
    stopped = true;
    controller.abort();
  };
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined).map((c) => (typeof c === 'string' || typeof c === 'number' ? String(c) : c)));
  return node;
}

export function announce(text) {
  const status = document.getElementById('status');
  if (status) status.textContent = text;
}

/** An AbortController that also aborts when `parent` does: a chart or a poll within a view. */
export function linked(parent) {
  const controller = new AbortController();
  if (parent?.aborted) controller.abort();
  else parent?.addEventListener('abort', () => controller.abort(), { once: true });
  return controller;
}
