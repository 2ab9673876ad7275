// Traffic control: parking bays and garages on a map coloured by state (with its legend),
// free/total per zone, counting sites with current flow; updated live from the SSE
// stream; a list view for a screen at the control desk. A role without access is told
// so instead of waiting for ever.
import { api, el, liveStream } from '../api.js';
import { errorText, fmtNumber, kindName, t } from '../i18n.js';
import { createMap, fitToPoints } from '../map.js';
import { requireKey } from '../signin.js';

const COLOURS = { free: '#1a7f37', occupied: '#b42318', unknown: '#6e7781', garage: '#0b5cad', site: '#8250df' };

export async function render(main, signal) {
  main.append(el('h1', {}, t('nav.control')));
  requireKey(main, () => view(main, signal).catch((error) => {
    if (signal.aborted || error?.name === 'ViewLeft' || error?.name === 'AbortError') return;
    main.querySelector('[data-view-body]')?.remove();
    const text = error?.status === 403 ? t('noAccess') : errorText(error);
    main.append(el('p', { class: 'error', role: 'alert', 'data-testid': 'view-error' }, text));
  }));
}

function legend() {
  const item = (colour, text, size = '1rem') => el('li', {}, el('span', { class: 'swatch', style: `background:${colour};width:${size};height:${size}`, 'aria-hidden': 'true' }), text);
  return el('section', { 'aria-label': t('legend'), 'data-testid': 'legend' },
    el('ul', { class: 'legend' },
      item(COLOURS.free, t('legend.bayFree'), '.8rem'), item(COLOURS.occupied, t('legend.bayOccupied'), '.8rem'), item(COLOURS.unknown, t('legend.bayUnknown'), '.8rem'),
      item(COLOURS.garage, t('legend.garage'), '1.2rem'), item(COLOURS.site, t('legend.site'), '1.2rem')));
}

async function view(main, signal) {
  const body = el('div', { 'data-view-body': '' });
  const state = el('p', { class: 'muted', role: 'status' }, t('loading'));
  const zonesBox = el('section', {});
  const mapBox = el('div', { class: 'map', role: 'region', 'aria-label': t('mapView') });
  const listBox = el('section', { hidden: true });
  const toggle = el('button', { type: 'button', class: 'secondary', 'aria-pressed': 'false', onclick: () => {
    const list = listBox.hidden;
    listBox.hidden = !list;
    mapBox.hidden = list;
    mapLegend.hidden = list;
    toggle.setAttribute('aria-pressed', String(list));
    toggle.textContent = list ? t('mapView') : t('listView');
  } }, t('listView'));
  const mapLegend = legend();
  body.append(el('div', { class: 'row' }, state, toggle), zonesBox, mapLegend, mapBox, listBox);
  main.append(body);
  // The data first: a role without access learns it at once, before any map is made.
  const [parking, traffic] = await Promise.all([api('/api/v1/live/parking', { signal }), api('/api/v1/live/traffic', { signal })]);
  const { map, L } = await createMap(mapBox, { zoom: 14, signal });
  const markers = new Map();
  const bays = new Map();

  const drawZones = async () => {
    const { zones } = await api('/api/v1/live/zones', { signal });
    zonesBox.replaceChildren(el('h2', {}, t('zones')), zones.length === 0 ? el('p', { class: 'none' }, t('none')) : el('table', {},
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('zone')), el('th', { scope: 'col', class: 'num' }, t('free')), el('th', { scope: 'col', class: 'num' }, t('occupied')), el('th', { scope: 'col', class: 'num' }, t('unknown')))),
      el('tbody', {}, zones.map((z) => el('tr', { 'data-zone': z.zone }, el('th', { scope: 'row' }, z.zone),
        el('td', { class: 'num' }, `${fmtNumber(z.freeSpaces)} ${t('of')} ${fmtNumber(z.totalSpaces)}`), el('td', { class: 'num' }, fmtNumber(z.occupied)), el('td', { class: 'num' }, fmtNumber(z.unknown)))))));
  };
  const describe = (a) => (a.kind === 'parking_bay' ? t(a.state) : a.kind === 'garage' ? `${fmtNumber(a.values.free_spaces)} ${t('of')} ${fmtNumber(a.values.total_spaces)} ${t('free')}` : `${fmtNumber(flow(a))} ${t('flow')}`);
  const drawList = () => {
    listBox.replaceChildren(el('h2', {}, `${t('bays')} / ${t('garages')} / ${t('sites')}`), bays.size === 0 ? el('p', { class: 'none' }, t('none')) : el('table', {},
      el('tbody', {}, [...bays.values()].sort((a, b) => a.assetId.localeCompare(b.assetId)).map((a) => el('tr', { 'data-asset': a.assetId },
        el('th', { scope: 'row' }, a.assetId), el('td', {}, a.zone ?? ''), el('td', {}, kindName(a.kind)),
        el('td', {}, a.kind === 'parking_bay' ? el('span', { class: `pill ${a.state}`, 'data-state': a.state }, t(a.state)) : describe(a)))))));
  };
  const place = (a) => {
    bays.set(a.assetId, a);
    if (a.latitude === null) return;
    const colour = a.kind === 'parking_bay' ? COLOURS[a.state] ?? COLOURS.unknown : a.kind === 'garage' ? COLOURS.garage : COLOURS.site;
    let m = markers.get(a.assetId);
    if (!m) {
      m = L.circleMarker([a.latitude, a.longitude], { radius: a.kind === 'parking_bay' ? 7 : 11, weight: 1, color: '#1b1f23', fillOpacity: 0.9 }).addTo(map);
      markers.set(a.assetId, m);
    }
    m.setStyle({ fillColor: colour });
    m.unbindTooltip().bindTooltip(`${a.name ?? a.assetId} (${kindName(a.kind)}): ${describe(a)}`);
    m.getElement?.()?.setAttribute('data-asset', a.assetId);
    m.getElement?.()?.setAttribute('data-state', a.state ?? '');
  };
  for (const a of [...parking.assets, ...traffic.assets]) place(a);
  fitToPoints(map, L, [...bays.values()].filter((a) => a.latitude !== null).map((a) => [a.latitude, a.longitude]));
  drawList();
  await drawZones();

  let zoneTimer = null;
  const stopStream = liveStream('/api/v1/live/stream', (e) => {
    const a = bays.get(e.assetId);
    if (!a) return;
    const key = e.channel ? `${e.metric}@${e.channel}` : e.metric;
    a.values[key] = e.value;
    if (e.metric === 'occupied') a.state = e.value >= 0.5 ? 'occupied' : 'free';
    place(a);
    drawList();
    zoneTimer ??= setTimeout(() => { zoneTimer = null; drawZones().catch(() => undefined); }, 1000);
  }, (s) => (state.textContent = s === 'live' ? `● ${t('live')}` : t('disconnected')));
  signal.addEventListener('abort', () => {
    stopStream();
    clearTimeout(zoneTimer);
  }, { once: true });
}

function flow(a) {
  return Object.entries(a.values).filter(([k]) => k.startsWith('vehicle_count')).reduce((s, [, v]) => s + v, 0);
}
