// stadtfunk web app: one page, four views, no build step. Views load on demand.
import { t, setLang, lang, applyStatic } from './i18n.js';
import { mountUserMenu } from './user-menu.js';

const views = {
  explore: () => import('./views/explore.js'),
  tech: () => import('./views/tech.js'),
  control: () => import('./views/control.js'),
  ops: () => import('./views/ops.js'),
  // Sign-in and user accounts (web/session.js).
  signin: () => import('./views/signin.js'),
  users: () => import('./views/users.js'),
};

let cleanup = null;

async function route() {
  const name = (location.hash.replace(/^#\//, '') || 'explore').split('?')[0];
  const load = views[name] ?? views.explore;
  for (const a of document.querySelectorAll('header nav a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (cleanup) cleanup();
  cleanup = null;
  const main = document.getElementById('main');
  main.replaceChildren();
  const module = await load();
  cleanup = (await module.render(main)) ?? null;
  document.title = `${t(`nav.${name}`)} – stadtfunk`;
}

const langSelect = document.getElementById('lang');
langSelect.value = lang();
langSelect.addEventListener('change', () => {
  setLang(langSelect.value);
  applyStatic();
  route();
});
applyStatic();
const refreshUserMenu = mountUserMenu(document.getElementById('user-menu'));
langSelect.addEventListener('change', refreshUserMenu);
window.addEventListener('hashchange', route);
route();
