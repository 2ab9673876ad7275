// Admin: user accounts (#/users). Create a local user; disable or enable, lift a lockout,
// sign someone out everywhere. Users of the identity provider appear after their first
// sign-in; their name and role come from there.
import { api, announce, el } from '../api.js';
import { stackCell, stackRow, stackTable } from '../stack-table.js';
import { t, lang } from '../i18n.js';
import { requireKey } from '../signin.js';
import { authErrorText, session, tf } from '../session.js';

export function render(main) {
  requireKey(main, () => view(main));
}

async function view(main) {
  const me = (await session()).user;
  main.append(el('h1', {}, t('auth.users')));
  if (me.role !== 'admin') {
    main.append(el('p', { class: 'error', role: 'alert' }, t('users.adminOnly')));
    return;
  }
  const status = el('p', { role: 'status', class: 'muted', 'data-testid': 'users-status' });
  const error = el('p', { class: 'error', role: 'alert' });
  const tableSlot = el('div');
  const columns = ['auth.username', 'users.displayName', 'users.role', 'users.source', 'users.status', 'users.lastSignIn', 'users.actions'].map((k) => t(k));
  const when = (iso) => (iso ? new Date(iso).toLocaleString(lang() === 'de' ? 'de-DE' : 'en-GB', { dateStyle: 'short', timeStyle: 'short' }) : '–');
  const fail = (err) => { error.textContent = authErrorText(err); };

  const change = (user, body, done) => async () => {
    error.textContent = '';
    try {
      await api(`/api/v1/users/${user.id}`, { method: 'PATCH', body });
      announce(done);
      status.textContent = done;
      await draw();
    } catch (err) {
      fail(err);
    }
  };

  async function draw() {
    const { items } = await api('/api/v1/users');
    const rows = items.map((u) => {
      const name = u.username ?? u.displayName;
      const state = u.disabled ? t('users.disabled') : u.lockedUntil ? tf('users.locked', { time: when(u.lockedUntil) }) : t('users.active');
      const actions = [];
      if (u.id !== me.id) {
        actions.push(u.disabled
          ? el('button', { type: 'button', class: 'secondary', onclick: change(u, { disabled: false }, tf('users.enabled', { name })) }, t('users.enable'))
          : el('button', { type: 'button', class: 'secondary', onclick: change(u, { disabled: true }, tf('users.disabledDone', { name })) }, t('users.disable')));
      }
      if (u.lockedUntil) {
        actions.push(el('button', { type: 'button', class: 'secondary', onclick: async () => {
          await api(`/api/v1/users/${u.id}/unlock`, { method: 'POST' }).catch(fail);
          status.textContent = tf('users.unlocked', { name });
          await draw();
        } }, t('users.unlock')));
      }
      if (u.sessions > 0) {
        actions.push(el('button', { type: 'button', class: 'secondary', onclick: async () => {
          await api(`/api/v1/users/${u.id}/sessions`, { method: 'DELETE' }).catch(fail);
          status.textContent = tf('users.sessionsEnded', { name });
          await draw();
        } }, t('users.endSessions')));
      }
      const cell = (i, content, attrs = {}) => stackCell(columns[i], content, attrs);
      return stackRow({ 'data-user': name }, name, cell(1, u.displayName), cell(2, t(`auth.role.${u.role}`)),
        cell(3, t(u.source === 'oidc' ? 'users.oidc' : 'users.local')), cell(4, state, { 'data-state': u.disabled ? 'disabled' : 'active' }),
        cell(5, when(u.lastSignInAt)), cell(6, el('div', { class: 'actions' }, ...actions), { class: 'actions-cell' }));
    });
    tableSlot.replaceChildren(items.length === 0 ? el('p', {}, t('users.none')) : stackTable({ class: 'users' }, columns, rows));
  }

  const username = el('input', { id: 'new-username', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', required: true });
  const displayName = el('input', { id: 'new-display-name', autocomplete: 'off' });
  const role = el('select', { id: 'new-role' }, ...['technician', 'operator', 'admin'].map((r) => el('option', { value: r }, t(`auth.role.${r}`))));
  const password = el('input', { id: 'new-password', type: 'password', autocomplete: 'new-password', minlength: '12', required: true, 'aria-describedby': 'new-password-hint' });
  const form = el('form', {
    class: 'card', 'aria-labelledby': 'create-user-title',
    onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = '';
      try {
        const created = await api('/api/v1/users', { method: 'POST', body: { username: username.value, ...(displayName.value.trim() ? { displayName: displayName.value } : {}), role: role.value, password: password.value } });
        status.textContent = tf('users.created', { name: created.username });
        form.reset();
        await draw();
      } catch (err) {
        fail(err);
      }
    },
  },
  el('h2', { id: 'create-user-title' }, t('users.create')),
  el('div', { class: 'row' },
    el('div', {}, el('label', { for: 'new-username' }, t('auth.username')), username),
    el('div', {}, el('label', { for: 'new-display-name' }, t('users.displayName')), displayName),
    el('div', {}, el('label', { for: 'new-role' }, t('users.role')), role),
    el('div', {}, el('label', { for: 'new-password' }, t('users.initialPassword')), password)),
  el('p', { id: 'new-password-hint', class: 'muted' }, t('users.passwordHint')),
  el('p', {}, el('button', { type: 'submit' }, t('users.createButton'))));

  main.append(error, status, tableSlot, form);
  await draw().catch(fail);
}
