// Street lamps and downlinks panel (ops view, operator and admin): every lamp with a
// controller, what it reports and what it was told, with switch and dim per lamp or zone,
// and the latest downlinks with their delivery state. A command shows as confirmed once
// the lamp's next report shows the commanded state.
import { announce, api, el } from '../api.js';
import { errorText, fmtDateTime, t } from '../i18n.js';
import { stackCell, stackRow, stackTable } from '../stack-table.js';

export function renderLampsPanel(container) {
  const zone = el('select', { id: 'lamp-zone' }, el('option', { value: '' }, t('lamps.allZones')));
  const level = el('input', { id: 'lamp-level', type: 'number', min: '0', max: '100', step: '10', value: '40', inputmode: 'numeric' });
  const list = el('div', { 'aria-live': 'polite' });
  const downlinks = el('div', {});
  const error = el('p', { class: 'error', role: 'alert' });
  let zonesKnown = false;

  const send = async (url, body) => {
    error.textContent = '';
    try {
      const r = await api(url, { method: 'POST', body });
      announce(`${r.queued.length} ${t('lamps.queued')}${r.failed.length ? `, ${r.failed.length} ${t('lamps.failed')}` : ''}`);
      await draw();
    } catch (err) {
      error.textContent = errorText(err);
    }
  };
  const dimValue = () => Math.max(0, Math.min(100, Math.round(Number(level.value) || 0)));

  const draw = async () => {
    const [lamps, recent] = await Promise.all([
      api(`/api/v1/lamps${zone.value ? `?zone=${encodeURIComponent(zone.value)}` : ''}`),
      api('/api/v1/downlinks?limit=15'),
    ]);
    if (!zonesKnown) {
      zonesKnown = true;
      for (const z of [...new Set(lamps.items.map((l) => l.zone).filter(Boolean))].sort()) zone.append(el('option', { value: z }, z));
    }
    const none = () => el('p', { class: 'none' }, t('none'));
    const cell = (label, content, attrs = {}) => stackCell(t(label), content, attrs);
    const headings = (keys) => keys.map((k) => t(k));
    list.replaceChildren(lamps.items.length === 0 ? none() : stackTable({ 'data-testid': 'lamps' }, headings(['lamps.lamp', 'lamps.reported', 'lamps.command', 'lamps.actions']),
      lamps.items.map((l) => stackRow({ 'data-asset': l.assetId }, [`${l.assetId} `, el('span', { class: 'muted' }, l.zone ?? '')],
        cell('lamps.reported', l.reported ? `${l.reported.lampOn ? t('lamps.on') : t('lamps.off')} ${l.reported.lampOn ? `${l.reported.dimLevel ?? '–'} %` : ''}` : t('never')),
        cell('lamps.command', l.command
          ? [`${l.command.lampOn ? `${l.command.dimLevel} %` : t('lamps.off')} `, el('span', { class: `pill ${pillOf(l.command.confirmation)}` }, t(`lamps.${l.command.confirmation}`))]
          : '–', { 'data-confirmation': l.command?.confirmation ?? 'none' }),
        cell('lamps.actions', el('div', { class: 'actions' },
          el('button', { type: 'button', class: 'secondary', 'aria-label': `${t('lamps.dimTo')} ${l.assetId}`, onclick: () => send(`/api/v1/lamps/${encodeURIComponent(l.assetId)}/command`, { lamp_on: true, dim_level: dimValue() }) }, t('lamps.dim')),
          el('button', { type: 'button', class: 'secondary', 'aria-label': `${t('lamps.switchOff')} ${l.assetId}`, onclick: () => send(`/api/v1/lamps/${encodeURIComponent(l.assetId)}/command`, { lamp_on: false }) }, t('lamps.off'))),
        { class: 'actions-cell' }))), t('lamps.title')));
    downlinks.replaceChildren(recent.items.length === 0 ? none() : stackTable({ 'data-testid': 'downlinks' }, headings(['device', 'downlinks.port', 'downlinks.state', 'downlinks.gateway', 'downlinks.when']),
      recent.items.map((d) => stackRow({}, d.devEui, cell('downlinks.port', `${d.fPort}${d.confirmed ? ' ✓' : ''}`),
        cell('downlinks.state', [el('span', { class: `pill ${d.state === 'failed' ? 'bad' : d.state === 'queued' ? 'unknown' : 'good'}` }, t(`downlinks.${d.state}`)), d.error ? ` ${d.error}` : ''], { 'data-state': d.state }),
        cell('downlinks.gateway', d.txStatus ?? '–'), cell('downlinks.when', fmtDateTime(d.updatedAt)))), t('downlinks.title')));
  };

  zone.addEventListener('change', () => draw().catch((e) => (error.textContent = errorText(e))));
  container.append(el('section', { 'aria-labelledby': 'lamps-h' },
    el('h2', { id: 'lamps-h' }, t('lamps.title')),
    el('div', { class: 'row' },
      el('div', {}, el('label', { for: 'lamp-zone' }, t('zone')), zone),
      el('div', {}, el('label', { for: 'lamp-level' }, t('lamps.level')), level),
      el('div', {}, el('button', { type: 'button', onclick: () => zone.value && send(`/api/v1/zones/${encodeURIComponent(zone.value)}/lamps/command`, { lamp_on: true, dim_level: dimValue() }) }, t('lamps.dimZone')))),
    error, list,
    el('h2', {}, t('downlinks.title')), downlinks));
  draw().catch((e) => (error.textContent = errorText(e)));
  const timer = setInterval(() => draw().catch(() => undefined), 3000);
  return () => clearInterval(timer);
}

function pillOf(confirmation) {
  return confirmation === 'confirmed' ? 'good' : confirmation === 'pending' ? 'unknown' : 'bad';
}
