// Technician view, phone first: register a sensor at the lamp in under a minute (QR label
// by camera or typed, model, an existing asset picked from the list or the map, or a new
// one placed by GPS, a tap, a dragged pin or typed coordinates, ABP keys once), watch its
// first uplink arrive, move or decommission it, import CSV. The asset and the device are
// saved together or not at all (POST /api/v1/registrations), so after any error the form
// keeps what was typed and saving again simply works.
import { announce, api, apiAll, el } from '../api.js';
import { errorText, kindName, t } from '../i18n.js';
import { cityProfile, createMap, fitToPoints } from '../map.js';
import { requireKey } from '../signin.js';
import { csvImport, watchDevice } from './tech-device.js';
import { otaaFields } from './otaa-fields.js';
import { checkPosition, parseCoordinate } from './position.js';

const KINDS = ['street_lamp', 'parking_bay', 'garage', 'traffic_site', 'water_gauge'];
// Where the API's error details point: the field on screen.
const FIELDS = { qr: 'qr', devEui: 'qr', modelId: 'model', assetId: 'existing', id: 'newid', kind: 'kind', zone: 'zone', latitude: 'lat', longitude: 'lon', devAddr: 'devaddr', nwkSKey: 'nwk', appSKey: 'app' };

export async function render(main, signal) {
  main.append(el('h1', {}, t('register')));
  requireKey(main, () => form(main, signal).catch((error) => {
    if (signal.aborted || error?.name === 'ViewLeft' || error?.name === 'AbortError') return;
    main.append(el('p', { class: 'error', role: 'alert' }, error?.status === 403 ? t('noAccess') : errorText(error)));
  }));
}

async function form(main, signal) {
  const models = (await api('/api/v1/device-models', { signal })).items;
  const qr = el('input', { id: 'qr', autocomplete: 'off', placeholder: 'LW:D0:…', required: true });
  const video = el('video', { hidden: true, playsinline: true, 'aria-hidden': 'true', style: 'width:100%;max-height:240px' });
  const scan = el('button', { type: 'button', class: 'secondary', onclick: () => scanQr(video, qr, scan) }, t('scan'));
  if (!('BarcodeDetector' in window) || !navigator.mediaDevices) scan.hidden = true;
  // Imported models (stadtfunk models import) first; a codec without examples says it is unverified.
  const label = (m) => `${m.name} (${m.id})${m.imported ? ` · ${t('fromRepository')}` : ''}${m.verified === false ? ` · ⚠ ${t('unverified')}` : ''}`;
  const byImport = [...models].sort((a, b) => Number(Boolean(b.imported)) - Number(Boolean(a.imported)));
  const model = el('select', { id: 'model', required: true }, byImport.map((m) => el('option', { value: m.id, ...(m.verified === false ? { 'data-unverified': 'true' } : {}) }, label(m))));
  const modeExisting = el('input', { type: 'radio', name: 'mode', id: 'mode-existing', value: 'existing', checked: true });
  const modeNew = el('input', { type: 'radio', name: 'mode', id: 'mode-new', value: 'new' });
  const existing = el('input', { id: 'existing', list: 'assets', placeholder: 'lamp-0815', autocomplete: 'off' });
  const assetList = el('datalist', { id: 'assets' });
  const newId = el('input', { id: 'newid', placeholder: 'lamp-0816', autocomplete: 'off' });
  const kind = el('select', { id: 'kind' }, KINDS.map((k) => el('option', { value: k }, kindName(k))));
  const zone = el('input', { id: 'zone', placeholder: 'altstadt' });
  const lat = el('input', { id: 'lat', inputmode: 'decimal', autocomplete: 'off', 'aria-describedby': 'position-error' });
  const lon = el('input', { id: 'lon', inputmode: 'decimal', autocomplete: 'off', 'aria-describedby': 'position-error' });
  const positionError = el('p', { id: 'position-error', class: 'field-error', role: 'alert' });
  const gpsError = el('p', { id: 'gps-error', class: 'field-error', role: 'alert', 'data-testid': 'gps-error' });
  const gps = el('button', { type: 'button', class: 'secondary', id: 'gps' }, t('gps'));
  const mapBox = el('div', { class: 'map', style: 'height:280px', role: 'region', 'aria-label': t('mapView') });
  const devAddr = el('input', { id: 'devaddr', placeholder: '26011234', autocomplete: 'off' });
  const nwk = el('input', { id: 'nwk', type: 'password', autocomplete: 'off' });
  const app = el('input', { id: 'app', type: 'password', autocomplete: 'off' });
  const otaa = otaaFields();
  const error = el('p', { id: 'form-error', class: 'error', role: 'alert' });
  const actions = el('div', { class: 'actions' });
  const result = el('section', { 'aria-live': 'polite' });
  const existingBox = el('div', {}, el('label', { for: 'existing' }, t('existingAsset')), existing, assetList);
  const newBox = el('div', { hidden: true },
    el('div', { class: 'row' }, el('div', {}, el('label', { for: 'newid' }, t('assetId')), newId), el('div', {}, el('label', { for: 'kind' }, t('kind')), kind), el('div', {}, el('label', { for: 'zone' }, t('zone')), zone)),
    el('h3', {}, t('position')), el('p', {}, gps), gpsError,
    el('div', { class: 'row' }, el('div', {}, el('label', { for: 'lat' }, t('latitude')), lat), el('div', {}, el('label', { for: 'lon' }, t('longitude')), lon)),
    positionError, el('p', { class: 'muted' }, t('tapMap')));
  let stopWatching = () => undefined;
  signal.addEventListener('abort', () => stopWatching(), { once: true });

  const mode = () => (modeNew.checked ? 'new' : 'existing');
  const setMode = (value) => {
    modeNew.checked = value === 'new';
    modeExisting.checked = value !== 'new';
    newBox.hidden = value !== 'new';
    existingBox.hidden = value === 'new';
  };
  modeExisting.addEventListener('change', () => setMode('existing'));
  modeNew.addEventListener('change', () => setMode('new'));

  const fields = { qr, model, existing, newid: newId, kind, zone, lat, lon, devaddr: devAddr, nwk, app };
  const clearErrors = () => {
    error.textContent = '';
    actions.replaceChildren();
    positionError.textContent = '';
    for (const f of Object.values(fields)) f.removeAttribute('aria-invalid');
  };
  for (const f of Object.values(fields)) f.addEventListener('input', () => f.removeAttribute('aria-invalid'));
  const markInvalid = (ids) => {
    for (const id of ids) fields[id]?.setAttribute('aria-invalid', 'true');
    fields[ids[0]]?.focus();
  };

  main.append(
    el('form', { novalidate: true, onsubmit: (e) => { e.preventDefault(); submit(); } },
      el('label', { for: 'qr' }, t('qr')), qr, el('p', {}, scan), video,
      el('label', { for: 'model' }, t('model')), model,
      el('fieldset', {}, el('legend', {}, t('asset')),
        el('div', { class: 'row' }, el('label', { class: 'choice' }, modeExisting, t('useExisting')), el('label', { class: 'choice' }, modeNew, t('createNew'))),
        existingBox, newBox, mapBox, el('p', { class: 'muted' }, t('mapHint'))),
      el('details', {}, el('summary', {}, t('abp')),
        el('label', { for: 'devaddr' }, 'DevAddr'), devAddr, el('label', { for: 'nwk' }, 'NwkSKey'), nwk, el('label', { for: 'app' }, 'AppSKey'), app),
      otaa.element,
      el('p', {}, el('button', { type: 'submit' }, t('save'))), error, actions),
    result,
    csvImport(),
  );

  // The map comes later than the form: GPS, typing and saving work at once, and the pin
  // is placed as soon as the map is there.
  const mapReady = createMap(mapBox, { zoom: 15, signal });
  mapReady.catch(() => undefined);
  let pin = null;
  const writeCoordinates = (latlng) => {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    lat.removeAttribute('aria-invalid');
    lon.removeAttribute('aria-invalid');
    positionError.textContent = '';
  };
  // The pin and the typed coordinates stay in step, whichever moved.
  const setPin = async (latlng, { pan = false, zoom = null } = {}) => {
    const { map, L } = await mapReady;
    if (!pin) {
      pin = L.marker(latlng, { draggable: true, keyboard: true, title: t('newAsset'), alt: t('newAsset') }).addTo(map);
      pin.on('dragend', () => writeCoordinates(pin.getLatLng()));
    } else pin.setLatLng(latlng);
    if (zoom) map.setView(latlng, zoom);
    else if (pan && !map.getBounds().contains(latlng)) map.panTo(latlng);
  };
  // Only a usable position moves the pin: a half-typed or wrong one (0,0, swapped) would
  // carry the map away from the city.
  const typed = async () => {
    const [la, lo] = [parseCoordinate(lat.value), parseCoordinate(lon.value)];
    if (checkPosition(await cityProfile(), la, lo) === null) await setPin([la, lo], { pan: true });
  };
  lat.addEventListener('input', () => typed().catch(() => undefined));
  lon.addEventListener('input', () => typed().catch(() => undefined));
  gps.addEventListener('click', () => {
    gpsError.textContent = '';
    if (!navigator.geolocation) {
      gpsError.textContent = t('gps.0');
      return;
    }
    gps.textContent = t('gpsBusy');
    navigator.geolocation.getCurrentPosition((p) => {
      gps.textContent = t('gps');
      const latlng = { lat: p.coords.latitude, lng: p.coords.longitude };
      writeCoordinates(latlng);
      setPin([latlng.lat, latlng.lng], { zoom: 18 }).catch(() => undefined);
    }, (e) => {
      gps.textContent = t('gps');
      gpsError.textContent = t(`gps.${[1, 2, 3].includes(e.code) ? e.code : 0}`);
    }, { enableHighAccuracy: true, timeout: 20_000, maximumAge: 30_000 });
  });

  const { map, L } = await mapReady;
  map.on('click', (e) => {
    setMode('new');
    writeCoordinates(e.latlng);
    setPin(e.latlng).catch(() => undefined);
  });
  // Existing assets and the devices on them, to orient by and to pick from.
  const assetLayer = L.layerGroup().addTo(map);
  const addAsset = (a, devices) => {
    if (a.latitude === null || a.longitude === null) return;
    const label = `${a.id} · ${kindName(a.kind)}${a.zone ? ` · ${a.zone}` : ''}${devices.length ? ` · ${t('devices')}: ${devices.map((d) => d.devEui).join(', ')}` : ''}`;
    const marker = L.circleMarker([a.latitude, a.longitude], { radius: 7, weight: 1, color: '#1b1f23', fillColor: devices.length ? '#57606a' : '#afb8c1', fillOpacity: 0.9 })
      .addTo(assetLayer).bindTooltip(label).on('click', (e) => {
        L.DomEvent.stopPropagation(e);
        setMode('existing');
        existing.value = a.id;
        existing.removeAttribute('aria-invalid');
        announce(`${t('asset')}: ${a.id}`);
      });
    marker.getElement()?.setAttribute('data-asset', a.id);
  };
  const [assets, devices] = await Promise.all([apiAll('/api/v1/assets?limit=5000', { signal }), apiAll('/api/v1/devices?limit=5000', { signal })]);
  const byAsset = new Map();
  for (const d of devices.items) if (d.assetId) byAsset.set(d.assetId, [...(byAsset.get(d.assetId) ?? []), d]);
  for (const a of assets.items) {
    assetList.append(el('option', { value: a.id }, `${kindName(a.kind)} ${a.zone ?? ''}`));
    addAsset(a, byAsset.get(a.id) ?? []);
  }
  // Fitted to the assets unless a pin was placed meanwhile (GPS, typing).
  if (!pin) fitToPoints(map, L, assets.items.filter((a) => a.latitude !== null).map((a) => [a.latitude, a.longitude]), 16);

  async function submit() {
    clearErrors();
    const id = qr.value.trim();
    const device = { ...(id.startsWith('LW:') ? { qr: id } : { devEui: id }), modelId: model.value };
    if (devAddr.value) Object.assign(device, { devAddr: devAddr.value.trim(), nwkSKey: nwk.value.trim(), appSKey: app.value.trim() });
    Object.assign(device, otaa.values());
    const body = { device };
    if (mode() === 'new') {
      const [latitude, longitude] = [parseCoordinate(lat.value), parseCoordinate(lon.value)];
      const problem = checkPosition(await cityProfile(), latitude, longitude);
      if (problem) {
        positionError.textContent = problem.text;
        markInvalid(problem.fields);
        return;
      }
      body.asset = { id: newId.value.trim(), kind: kind.value, latitude, longitude, ...(zone.value.trim() ? { zone: zone.value.trim() } : {}) };
    } else if (existing.value.trim()) {
      device.assetId = existing.value.trim();
    }
    try {
      const saved = await api('/api/v1/registrations', { method: 'POST', body, signal });
      nwk.value = '';
      app.value = '';
      otaa.clear();
      announce(t('saved'));
      if (saved.asset) addAsset(saved.asset, [saved.device]);
      stopWatching();
      stopWatching = watchDevice(saved.device.devEui, result, signal);
    } catch (err) {
      if (err?.name === 'AbortError') return;
      showError(err);
    }
  }

  function showError(err) {
    const text = errorText(err);
    const field = String(err?.details?.field ?? '').split('.').pop();
    const target = FIELDS[field];
    if (target === 'lat' || target === 'lon') {
      positionError.textContent = text;
      markInvalid(['lat', 'lon']);
    } else {
      error.textContent = text;
      if (target) markInvalid([target]);
    }
    if (err?.code === 'STADTFUNK_ERR_ASSET_EXISTS' && err.details?.id) {
      actions.append(el('button', { type: 'button', class: 'secondary', onclick: () => {
        setMode('existing');
        existing.value = String(err.details.id);
        clearErrors();
      } }, t('useAsset', { id: err.details.id })));
    }
    if (err?.code === 'STADTFUNK_ERR_DEVICE_EXISTS' && err.details?.id) {
      actions.append(el('button', { type: 'button', class: 'secondary', onclick: () => {
        stopWatching();
        stopWatching = watchDevice(String(err.details.id), result, signal);
        result.scrollIntoView({ block: 'start' });
      } }, t('showDevice')));
    }
  }
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
