// Traffic control: parking bays and garages on a map coloured by state, free/total per
// zone, counting sites with current flow; updated live from the SSE stream; a list view
// for a screen at the control desk.
import { api, el, liveStream } from '../api.js';
import { t } from '../i18n.js';
import { createMap } from '../map.js';
import { requireKey } from '../signin.js';

const COLOURS = { free: '#1a7f37', occupied: '#b42318', unknown: '#6e7781' };

export async function render(main) {
  main.append(el('h1', {}, t('nav.control')));
  let stop = () => undefined;
  requireKey(main, () => view(main).then((s) => (stop = s)));
  return () => stop();
}

async function view(main) {
  const state = el('p', { class: 'muted', role: 'status' }, '…');
  const zonesBox = el('section', {});
  const mapBox = el('div', { class: 'map', role: 'region', 'aria-label': t('mapView') });
  const listBox = el('section', { hidden: true });
  const toggle = el('button', { type: 'button', class: 'secondary', 'aria-pressed': 'false', onclick: () => {
    const list = listBox.hidden;
    listBox.hidden = !list;
    mapBox.hidden = list;
    toggle.setAttribute('aria-pressed', String(list));
    toggle.textContent = list ? t('mapView') : t('listView');
  } }, t('listView'));
  main.append(el('div', { class: 'row' }, state, toggle), zonesBox, mapBox, listBox);
  const { map, L } = await createMap(mapBox, { zoom: 14 });
  const markers = new Map();
  const bays = new Map();

  const drawZones = async () => {
    const { zones } = await api('/api/v1/live/zones');
    zonesBox.replaceChildren(el('h2', {}, t('zones')), el('table', {},
      el('thead', {}, el('tr', {}, el('th', {}, t('zone')), el('th', {}, t('free')), el('th', {}, t('occupied')), el('th', {}, t('unknown')))),
      el('tbody', {}, zones.map((z) => el('tr', { 'data-zone': z.zone }, el('th', { scope: 'row' }, z.zone), el('td', {}, `${z.freeSpaces} ${t('of')} ${z.totalSpaces}`), el('td', {}, String(z.occupied)), el('td', {}, String(z.unknown)))))));
  };
  const drawList = () => {
    listBox.replaceChildren(el('h2', {}, `${t('bays')} / ${t('garages')} / ${t('sites')}`), el('table', {},
      el('tbody', {}, [...bays.values()].sort((a, b) => a.assetId.localeCompare(b.assetId)).map((a) => el('tr', { 'data-asset': a.assetId },
        el('th', { scope: 'row' }, a.assetId), el('td', {}, a.zone ?? ''),
        el('td', {}, a.kind === 'parking_bay' ? el('span', { class: `pill ${a.state}`, 'data-state': a.state }, t(a.state)) : a.kind === 'garage' ? `${a.values.free_spaces ?? '?'} ${t('of')} ${a.values.total_spaces ?? '?'} ${t('free')}` : `${flow(a)} ${t('flow')}`))))));
  };
  const place = (a) => {
    bays.set(a.assetId, a);
    if (a.latitude === null) return;
    const colour = a.kind === 'parking_bay' ? COLOURS[a.state] : a.kind === 'garage' ? '#0b5cad' : '#8250df';
    const label = a.kind === 'parking_bay' ? `${a.assetId}: ${t(a.state)}` : a.kind === 'garage' ? `${a.assetId}: ${a.values.free_spaces ?? '?'} ${t('free')}` : `${a.assetId}: ${flow(a)} ${t('flow')}`;
    let m = markers.get(a.assetId);
    if (!m) {
      m = L.circleMarker([a.latitude, a.longitude], { radius: a.kind === 'parking_bay' ? 7 : 11, weight: 1, color: '#1b1f23', fillOpacity: 0.9 }).addTo(map);
      markers.set(a.assetId, m);
    }
    m.setStyle({ fillColor: colour });
    m.unbindTooltip().bindTooltip(label);
    m.getElement?.()?.setAttribute('data-asset', a.assetId);
    m.getElement?.()?.setAttribute('data-state', a.state ?? '');
  };
  const [parking, traffic] = await Promise.all([api('/api/v1/live/parking'), api('/api/v1/live/traffic')]);
  for (const a of [...parking.assets, ...traffic.assets]) place(a);
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
    zoneTimer ??= setTimeout(() => { zoneTimer = null; drawZones(); }, 1000);
  }, (s) => (state.textContent = s === 'live' ? `● ${t('live')}` : t('disconnected')));
  return () => {
    stopStream();
    clearTimeout(zoneTimer);
    map.remove();
  };
}

function flow(a) {
  return Object.entries(a.values).filter(([k]) => k.startsWith('vehicle_count')).reduce((s, [, v]) => s + v, 0);
}
