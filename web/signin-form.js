// The sign-in form: user name and password, "Sign in with <identity provider>" when the
// service has one, and an API key behind a disclosure for machines and admins. Used by the
// sign-in page (#/signin) and in place of any view that needs someone signed in.
import { el } from './api.js';
import { authErrorText, session, signIn, tf, useKey } from './session.js';
import { t } from './i18n.js';

let formCount = 0;

/**
 * Returns the form's element; `onSignedIn` runs after a successful sign-in. `returnTo` is the
 * page the identity provider sends the browser back to; `error` an OIDC callback reason to show.
 */
export async function signInForm({ onSignedIn, returnTo, error = null, heading = 'h1', intro = null }) {
  const { methods } = await session();
  const id = (name) => `signin-${formCount}-${name}`;
  formCount++;
  const message = el('p', { class: 'error', role: 'alert', 'data-testid': 'signin-error' });
  if (error) message.textContent = authErrorText(error, methods);
  const show = (err) => { message.textContent = authErrorText(err, methods); };

  const username = el('input', { id: id('username'), name: 'username', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true });
  const password = el('input', { id: id('password'), name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = el('button', { type: 'submit' }, t('auth.submit'));
  const form = el('form', {
    class: 'signin-password', 'aria-labelledby': id('title'),
    onsubmit: async (e) => {
      e.preventDefault();
      message.textContent = '';
      submit.disabled = true;
      try {
        await signIn(username.value, password.value);
        onSignedIn();
      } catch (err) {
        password.value = '';
        show(err);
        password.focus();
      } finally {
        submit.disabled = false;
      }
    },
  },
  el('label', { for: id('username') }, t('auth.username')), username,
  el('label', { for: id('password') }, t('auth.password')), password,
  el('p', {}, submit));

  const oidc = methods.oidc
    ? el('div', { class: 'signin-oidc' },
      el('p', { class: 'signin-or', 'aria-hidden': 'true' }, t('auth.or')),
      el('a', { class: 'button', href: `${methods.oidc.url}?returnTo=${encodeURIComponent(returnTo)}` }, tf('auth.oidc', { name: methods.oidc.name })))
    : null;

  const keyInput = el('input', { id: id('apikey'), type: 'password', autocomplete: 'off', required: true });
  const machines = el('details', { class: 'signin-machines' },
    el('summary', {}, t('auth.machines')),
    el('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        message.textContent = '';
        try {
          await useKey(keyInput.value);
          onSignedIn();
        } catch (err) {
          show(err);
        }
      },
    },
    el('label', { for: id('apikey') }, t('apikey')), keyInput,
    el('p', { class: 'muted' }, t('auth.keyHint')),
    el('p', {}, el('button', { type: 'submit', class: 'secondary' }, t('auth.useKey')))));

  return el('section', { class: 'card signin' },
    el(heading, { id: id('title') }, t('auth.title')),
    intro ? el('p', {}, intro) : null,
    message, form, oidc, machines);
}
