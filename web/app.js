// stadtfunk web app: one page, four views, no build step. Views load on demand.
// Each view gets an AbortSignal that aborts when the user leaves it (also while it is
// still loading): its maps, charts, timers and streams stop with it.
import { t, setLang, lang, applyStatic, errorText } from './i18n.js';
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

let current = null;
const menu = document.getElementById('menu');
const nav = document.getElementById('views');

function setMenu(open) {
  menu.setAttribute('aria-expanded', String(open));
  menu.closest('header').classList.toggle('menu-open', open);
}
menu.addEventListener('click', () => setMenu(menu.getAttribute('aria-expanded') !== 'true'));

async function route() {
  const name = (location.hash.replace(/^#\//, '') || 'explore').split('?')[0];
  const key = views[name] ? name : 'explore';
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${key}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  setMenu(false);
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const main = document.getElementById('main');
  main.replaceChildren();
  document.title = `${t(`nav.${key}`)} – stadtfunk`;
  try {
    const module = await views[key]();
    if (controller.signal.aborted) return;
    await module.render(main, controller.signal);
  } catch (error) {
    // Leaving a view while it loads is not an error; anything else is shown, not swallowed.
    if (controller.signal.aborted || error?.name === 'ViewLeft' || error?.name === 'AbortError') return;
    console.error(error);
    main.append(Object.assign(document.createElement('p'), { className: 'error', role: 'alert', textContent: error?.name === 'ApiError' ? errorText(error) : error?.message ?? String(error) }));
  }
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
