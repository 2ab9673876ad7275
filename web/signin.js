// Sign-in with an API key (kept for this browser tab only).
import { api, el, key, setKey } from './api.js';
import { t } from './i18n.js';

/** Renders a sign-in form unless signed in; resolves with true once signed in. */
export function requireKey(main, onReady) {
  if (key()) {
    main.append(el('p', { class: 'muted' }, el('button', { class: 'secondary', onclick: () => { setKey(null); location.reload(); } }, t('signout'))));
    return onReady();
  }
  const input = el('input', { id: 'apikey', type: 'password', autocomplete: 'current-password', required: true });
  const error = el('p', { class: 'error', role: 'alert' });
  const form = el('form', { class: 'card', onsubmit: async (e) => {
    e.preventDefault();
    setKey(input.value.trim());
    try {
      await api('/api/v1/device-models');
      form.remove();
      onReady();
    } catch (err) {
      setKey(null);
      error.textContent = err.message;
    }
  } }, el('p', {}, t('needKey')), el('label', { for: 'apikey' }, t('apikey')), input, el('p', {}, el('button', { type: 'submit' }, t('signin'))), error);
  main.append(form);
  return undefined;
}
