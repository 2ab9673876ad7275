// The header's user menu: "Sign in" when nobody is, else the name and role with a menu
// (a disclosure: button + list) holding Users (admins), Sign out and Sign out everywhere.
import { el, announce } from './api.js';
import { t } from './i18n.js';
import { onSessionChange, session, signOut } from './session.js';

export function mountUserMenu(container) {
  const render = (s) => {
    container.replaceChildren();
    if (!s.user) {
      const here = location.hash.split('?')[0];
      const next = here && here !== '#/signin' ? `?next=${encodeURIComponent(here)}` : '';
      container.append(el('a', { class: 'signin-link', href: `#/signin${next}` }, t('auth.submit')));
      return;
    }
    const list = el('ul', { id: 'user-menu-list', class: 'user-menu-list', hidden: true });
    // Screen readers hear "User menu: <name>, <role>"; the label holds the visible words in
    // their order (WCAG 2.5.3, axe's label-content-name-mismatch).
    const role = t(`auth.role.${s.user.role}`);
    const button = el('button', {
      type: 'button', class: 'secondary user-button', 'aria-expanded': 'false', 'aria-controls': 'user-menu-list',
      'aria-label': `${t('auth.menu')}: ${s.user.displayName}, ${role}`,
      onclick: () => toggle(list.hidden),
    }, el('span', { class: 'user-name' }, s.user.displayName), ' ', el('span', { class: 'user-role' }, role));
    const toggle = (open) => {
      list.hidden = !open;
      button.setAttribute('aria-expanded', String(open));
      if (!open) return;
      // Opens towards the side with room: right-aligned under the button, unless that runs off the left edge (phones).
      list.classList.remove('align-left');
      if (list.getBoundingClientRect().left < 0) list.classList.add('align-left');
      list.querySelector('a, button')?.focus();
    };
    const action = (textKey, everywhere) => el('li', {}, el('button', {
      type: 'button', class: 'secondary',
      onclick: async () => {
        toggle(false);
        await signOut({ everywhere });
        announce(t(everywhere ? 'auth.signedOutEverywhere' : 'auth.signedOut'));
        location.hash = '#/signin';
      },
    }, t(textKey)));
    if (s.user.role === 'admin') list.append(el('li', {}, el('a', { href: '#/users', onclick: () => toggle(false) }, t('auth.users'))));
    list.append(action('auth.signOut', false));
    if (s.user.via !== 'api_key') list.append(action('auth.signOutEverywhere', true));
    container.append(button, list);
    container.onkeydown = (e) => {
      if (e.key === 'Escape' && !list.hidden) {
        toggle(false);
        button.focus();
      }
    };
  };
  document.addEventListener('click', (e) => {
    const list = container.querySelector('.user-menu-list');
    if (list && !list.hidden && !container.contains(e.target)) {
      list.hidden = true;
      container.querySelector('.user-button')?.setAttribute('aria-expanded', 'false');
    }
  });
  onSessionChange(render);
  const refresh = () => session().then(render).catch(() => undefined);
  // The "Sign in" link returns to the view it was followed from.
  window.addEventListener('hashchange', () => {
    if (!container.querySelector('.user-button')) refresh();
  });
  refresh();
  return refresh;
}
