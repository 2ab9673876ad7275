// Leaflet, loaded on demand. Centre, zoom and tile server come from the city profile
// (GET /api/v1/open/city; localStorage 'stadtfunk.tiles' still overrides the tiles for one
// browser), and the map stays usable (markers, clicks) when tiles cannot be loaded.
import { t } from './i18n.js';

let leaflet = null;
async function L() {
  if (!leaflet) {
    await new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/vendor/leaflet/leaflet.js';
      s.onload = resolve;
      s.onerror = reject;
      document.head.append(s);
    });
    leaflet = window.L;
  }
  return leaflet;
}

let profile = null;
/** The city profile, fetched once per page. */
export function cityProfile() {
  profile ??= fetch('/api/v1/open/city').then((r) => {
    if (!r.ok) throw new Error(`city profile: HTTP ${r.status}`);
    return r.json();
  });
  return profile;
}

export async function createMap(container, options = {}) {
  const [Leaflet, city] = await Promise.all([L(), cityProfile()]);
  const center = options.center ?? [city.map.center.latitude, city.map.center.longitude];
  const map = Leaflet.map(container, { keyboard: true }).setView(center, options.zoom ?? city.map.zoom);
  const url = localStorage.getItem('stadtfunk.tiles') ?? city.map.tileUrl;
  const layer = Leaflet.tileLayer(url, { maxZoom: 19, attribution: city.map.tileAttribution }).addTo(map);
  let warned = false;
  layer.on('tileerror', () => {
    if (warned) return;
    warned = true;
    container.insertAdjacentHTML('afterend', `<p class="muted" data-tiles-warning>${t('noTiles')}</p>`);
  });
  return { map, L: Leaflet };
}
