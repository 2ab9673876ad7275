// Technician view, phone first: register a sensor at the lamp in under a minute (QR label
// by camera or typed, model, position from GPS or a tap on the map, existing or new
// asset, ABP keys once), watch its first uplink arrive, move or decommission it, import CSV.
import { announce, api, el } from '../api.js';
import { t } from '../i18n.js';
import { createMap } from '../map.js';
import { requireKey } from '../signin.js';
import { otaaFields } from './otaa-fields.js';

export async function render(main) {
  main.append(el('h1', {}, t('register')));
  let stop = () => undefined;
  requireKey(main, () => form(main).then((s) => (stop = s)));
  return () => stop();
}

async function form(main) {
  const models = (await api('/api/v1/device-models')).items;
  const qr = el('input', { id: 'qr', autocomplete: 'off', placeholder: 'LW:D0:…', required: true });
  const video = el('video', { hidden: true, playsinline: true, 'aria-hidden': 'true', style: 'width:100%;max-height:240px' });
  const scan = el('button', { type: 'button', class: 'secondary', onclick: () => scanQr(video, qr, scan) }, t('scan'));
  if (!('BarcodeDetector' in window) || !navigator.mediaDevices) scan.hidden = true;
  // Imported models (stadtfunk models import) first; a codec without examples says it is unverified.
  const label = (m) => `${m.name} (${m.id})${m.imported ? ` · ${t('fromRepository')}` : ''}${m.verified === false ? ` · ⚠ ${t('unverified')}` : ''}`;
  const byImport = [...models].sort((a, b) => Number(Boolean(b.imported)) - Number(Boolean(a.imported)));
  const model = el('select', { id: 'model', required: true }, byImport.map((m) => el('option', { value: m.id, ...(m.verified === false ? { 'data-unverified': 'true' } : {}) }, label(m))));
  const existing = el('input', { id: 'existing', list: 'assets', placeholder: 'lamp-0815' });
  const assetList = el('datalist', { id: 'assets' });
  api('/api/v1/assets?limit=2000').then((r) => assetList.append(...r.items.map((a) => el('option', { value: a.id }, `${a.kind} ${a.zone ?? ''}`)))).catch(() => undefined);
  const newId = el('input', { id: 'newid', placeholder: 'lamp-0816' });
  const kind = el('select', { id: 'kind' }, ['street_lamp', 'parking_bay', 'garage', 'traffic_site', 'water_gauge'].map((k) => el('option', { value: k }, k)));
  const lat = el('input', { id: 'lat', inputmode: 'decimal' });
  const lon = el('input', { id: 'lon', inputmode: 'decimal' });
  const zone = el('input', { id: 'zone', placeholder: 'altstadt' });
  const gps = el('button', { type: 'button', class: 'secondary', onclick: () => navigator.geolocation?.getCurrentPosition((p) => { lat.value = p.coords.latitude.toFixed(6); lon.value = p.coords.longitude.toFixed(6); }, (e) => announce(e.message)) }, t('gps'));
  const mapBox = el('div', { class: 'map', style: 'height:240px', role: 'region', 'aria-label': t('tapMap') });
  const devAddr = el('input', { id: 'devaddr', placeholder: '26011234', autocomplete: 'off' });
  const nwk = el('input', { id: 'nwk', type: 'password', autocomplete: 'off' });
  const app = el('input', { id: 'app', type: 'password', autocomplete: 'off' });
  const otaa = otaaFields();
  const error = el('p', { class: 'error', role: 'alert' });
  const result = el('section', { 'aria-live': 'polite' });
  let polling = null;

  const submit = async (e) => {
    e.preventDefault();
    error.textContent = '';
    try {
      let assetId = existing.value.trim() || undefined;
      if (!assetId && newId.value.trim()) {
        await api('/api/v1/assets', { method: 'POST', body: { id: newId.value.trim(), kind: kind.value, latitude: Number(lat.value), longitude: Number(lon.value), ...(zone.value ? { zone: zone.value } : {}) } });
        assetId = newId.value.trim();
      }
      const id = qr.value.trim();
      const body = { ...(id.startsWith('LW:') ? { qr: id } : { devEui: id }), modelId: model.value, ...(assetId ? { assetId } : {}) };
      if (devAddr.value) Object.assign(body, { devAddr: devAddr.value.trim(), nwkSKey: nwk.value.trim(), appSKey: app.value.trim() });
      Object.assign(body, otaa.values());
      const device = await api('/api/v1/devices', { method: 'POST', body });
      nwk.value = '';
      app.value = '';
      otaa.clear();
      announce(t('saved'));
      clearInterval(polling);
      polling = watch(device.devEui, result);
    } catch (err) {
      error.textContent = err.message;
    }
  };

  main.append(
    el('form', { onsubmit: submit, novalidate: true },
      el('label', { for: 'qr' }, t('qr')), qr, el('p', {}, scan), video,
      el('label', { for: 'model' }, t('model')), model,
      el('h2', {}, t('asset')),
      el('label', { for: 'existing' }, t('existingAsset')), existing, assetList,
      el('details', {}, el('summary', {}, t('newAsset')),
        el('div', { class: 'row' }, el('div', {}, el('label', { for: 'newid' }, t('assetId')), newId), el('div', {}, el('label', { for: 'kind' }, t('kind')), kind), el('div', {}, el('label', { for: 'zone' }, t('zone')), zone)),
        el('h3', {}, t('position')), el('p', {}, gps),
        el('div', { class: 'row' }, el('div', {}, el('label', { for: 'lat' }, t('latitude')), lat), el('div', {}, el('label', { for: 'lon' }, t('longitude')), lon)),
        el('p', { class: 'muted' }, t('tapMap')), mapBox),
      el('details', {}, el('summary', {}, t('abp')),
        el('label', { for: 'devaddr' }, 'DevAddr'), devAddr, el('label', { for: 'nwk' }, 'NwkSKey'), nwk, el('label', { for: 'app' }, 'AppSKey'), app),
      otaa.element,
      el('p', {}, el('button', { type: 'submit' }, t('save'))), error),
    result,
    csvImport(),
  );
  const { map, L } = await createMap(mapBox, { zoom: 15 });
  let marker = null;
  map.on('click', (e) => {
    lat.value = e.latlng.lat.toFixed(6);
    lon.value = e.latlng.lng.toFixed(6);
    marker?.remove();
    marker = L.marker(e.latlng).addTo(map);
  });
  return () => {
    clearInterval(polling);
    map.remove();
  };
}

async function scanQr(video, input, button) {
  if (!video.hidden) {
    video.srcObject?.getTracks().forEach((track) => track.stop());
    video.hidden = true;
    button.textContent = t('scan');
    return;
  }
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
  video.srcObject = stream;
  video.hidden = false;
  button.textContent = t('stopScan');
  await video.play();
  const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
  const tick = async () => {
    if (video.hidden) return;
    const codes = await detector.detect(video).catch(() => []);
    if (codes[0]) {
      input.value = codes[0].rawValue;
      scanQr(video, input, button);
      return;
    }
    requestAnimationFrame(tick);
  };
  tick();
}

/** Shows the device and refreshes "last seen" and values every 3 s, so the first uplink appears live. */
function watch(devEui, box) {
  const draw = async () => {
    const [device, latest] = await Promise.all([api(`/api/v1/devices/${devEui}`), api(`/api/v1/devices/${devEui}/latest`)]);
    const assets = (await api('/api/v1/assets?limit=2000')).items;
    const moveTo = el('select', { id: 'moveto' }, assets.map((a) => el('option', { value: a.id, selected: a.id === device.assetId }, a.id)));
    box.replaceChildren(
      el('h2', {}, `${t('device')} ${device.devEui}`),
      el('p', { 'data-testid': 'last-seen' }, `${t('lastSeen')}: ${device.lastSeenAt ? new Date(device.lastSeenAt).toLocaleString() : t('never')}`),
      latest.items.length
        ? el('table', {}, el('caption', { class: 'sr-only' }, t('values')), el('tbody', {}, latest.items.map((r) => el('tr', {}, el('th', { scope: 'row' }, r.channel ? `${r.metric} (${r.channel})` : r.metric), el('td', {}, String(r.value))))))
        : el('p', { class: 'muted' }, t('waiting')),
      el('div', { class: 'row' },
        el('div', {}, el('label', { for: 'moveto' }, t('move')), moveTo),
        el('div', {}, el('button', { type: 'button', class: 'secondary', onclick: () => api(`/api/v1/devices/${devEui}/move`, { method: 'POST', body: { assetId: moveTo.value } }).then(draw) }, t('move')))),
      el('p', {}, el('button', { type: 'button', class: 'secondary', onclick: () => confirm(t('decommission')) && api(`/api/v1/devices/${devEui}/decommission`, { method: 'POST' }).then(draw) }, t('decommission'))),
    );
  };
  draw();
  return setInterval(() => draw().catch(() => undefined), 3000);
}

function csvImport() {
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
          r.problems.length ? el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, t('row')), el('th', {}, t('field')), el('th', {}, t('problem')))), el('tbody', {}, r.problems.map((p) => el('tr', {}, el('td', {}, String(p.row)), el('td', {}, p.field), el('td', {}, p.problem))))) : null);
      } catch (err) {
        report.replaceChildren(el('p', { class: 'error' }, err.message));
      }
    } }, t('importBtn'))), report);
}
