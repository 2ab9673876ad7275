// The technician's view of one device after saving: last seen and latest values (names,
// units and numbers in the chosen language), refreshed every 3 s so the first uplink shows
// up live; move to another asset, decommission. And the CSV import.
import { api, el } from '../api.js';
import { errorText, fmtDateTime, fmtValue, metricName, t } from '../i18n.js';

/** Shows the device in `box` and keeps it fresh; returns a function that stops it. */
export function watchDevice(devEui, box, signal) {
  let stopped = false;
  const problem = el('p', { class: 'error', role: 'alert' });
  const act = (promise) => promise.then(draw).catch((error) => {
    problem.textContent = errorText(error);
  });
  const draw = async () => {
    const [device, latest, assets] = await Promise.all([
      api(`/api/v1/devices/${devEui}`, { signal }), api(`/api/v1/devices/${devEui}/latest`, { signal }), api('/api/v1/assets?limit=5000', { signal }),
    ]);
    if (stopped) return;
    const moveTo = el('select', { id: 'moveto' }, assets.items.map((a) => el('option', { value: a.id, selected: a.id === device.assetId }, a.id)));
    box.replaceChildren(
      el('h2', {}, `${t('device')} ${device.devEui}`),
      el('p', { 'data-testid': 'last-seen' }, `${t('lastSeen')}: ${device.lastSeenAt ? fmtDateTime(device.lastSeenAt) : t('never')}`),
      latest.items.length
        ? el('table', {}, el('caption', { class: 'sr-only' }, t('values')), el('tbody', {}, latest.items.map((r) =>
          el('tr', { 'data-metric': r.metric }, el('th', { scope: 'row' }, r.channel ? `${metricName(r.metric)} (${r.channel})` : metricName(r.metric)), el('td', { class: 'num' }, fmtValue(r.value, r.unit))))))
        : el('p', { class: 'muted' }, t('waiting')),
      el('div', { class: 'row' },
        el('div', {}, el('label', { for: 'moveto' }, t('move')), moveTo),
        el('div', {}, el('button', { type: 'button', class: 'secondary', onclick: () => act(api(`/api/v1/devices/${devEui}/move`, { method: 'POST', body: { assetId: moveTo.value } })) }, t('move')))),
      el('p', {}, el('button', { type: 'button', class: 'secondary', onclick: () => confirm(t('decommission')) && act(api(`/api/v1/devices/${devEui}/decommission`, { method: 'POST' })) }, t('decommission'))),
      problem,
    );
  };
  draw().catch((error) => {
    if (!stopped && error?.name !== 'AbortError') box.replaceChildren(el('p', { class: 'error', role: 'alert' }, errorText(error)));
  });
  const timer = setInterval(() => draw().catch(() => undefined), 3000);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

export function csvImport() {
  const file = el('input', { id: 'csvfile', type: 'file', accept: '.csv,text/csv' });
  const report = el('div', { 'aria-live': 'polite' });
  return el('section', {}, el('h2', {}, t('importCsv')),
    el('label', { for: 'csvfile' }, 'CSV'), file,
    el('p', {}, el('button', { type: 'button', onclick: async () => {
      const text = await file.files?.[0]?.text();
      if (!text) return;
      try {
        const r = await api('/api/v1/devices/import', { method: 'POST', body: text, headers: { 'content-type': 'text/csv' } });
        report.replaceChildren(el('p', {}, `${r.imported} ${t('imported')}, ${r.failed} ${t('failed')}`),
          r.problems.length ? el('table', {}, el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('row')), el('th', { scope: 'col' }, t('field')), el('th', { scope: 'col' }, t('problem')))),
            el('tbody', {}, r.problems.map((p) => el('tr', {}, el('td', {}, String(p.row)), el('td', {}, p.field), el('td', {}, p.problem))))) : null);
      } catch (err) {
        report.replaceChildren(el('p', { class: 'error' }, errorText(err)));
      }
    } }, t('importBtn'))), report);
}
