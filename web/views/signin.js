// The sign-in page (#/signin[?next=#/tech][&error=oidc_…]): where the header's "Sign in" and
// a refused identity-provider sign-in lead. Signed in already, it says as whom.
import { el } from '../api.js';
import { session } from '../session.js';
import { signInForm } from '../signin-form.js';
import { tf } from '../session.js';

export async function render(main) {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const next = /^#\/[a-z]+/.test(params.get('next') ?? '') ? params.get('next') : '#/explore';
  const s = await session();
  const wrap = el('div', { class: 'signin-page' });
  main.append(wrap);
  if (s.user && !params.get('error')) {
    wrap.append(el('p', { class: 'card' }, tf('auth.signedInAs', { name: s.user.displayName })));
    return;
  }
  wrap.append(await signInForm({
    returnTo: `/app/${next}`,
    error: params.get('error'),
    onSignedIn: () => { location.hash = next; },
  }));
  wrap.querySelector('input')?.focus();
}
