// Views that need someone signed in call requireKey (the name predates user accounts): it
// runs the view at once when a session or an API key is there, else shows the sign-in
// form in the view's place and runs the view after sign-in.
import { el } from './api.js';
import { session } from './session.js';
import { signInForm } from './signin-form.js';
import { t } from './i18n.js';

export function requireKey(main, onReady) {
  const slot = el('div', { 'data-signin-slot': '' });
  main.append(slot);
  session()
    .then(async (s) => {
      if (s.user) {
        slot.remove();
        return onReady();
      }
      slot.append(await signInForm({
        heading: 'h2',
        intro: t('auth.needSignIn'),
        returnTo: `/app/${location.hash}`,
        onSignedIn: () => {
          slot.remove();
          onReady();
        },
      }));
      return undefined;
    })
    .catch((error) => slot.append(el('p', { class: 'error', role: 'alert' }, error.message)));
}

export const requireSignIn = requireKey;
