// Leaflet, loaded on demand; tiles from a configurable URL (localStorage 'stadtfunk.tiles'),
// and the map stays usable (markers, clicks) when tiles cannot be loaded.
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

export async function createMap(container, { center = [51.2277, 6.7735], zoom = 13 } = {}) {
  const Leaflet = await L();
  const map = Leaflet.map(container, { keyboard: true }).setView(center, zoom);
  const url = localStorage.getItem('stadtfunk.tiles') ?? 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';
  const layer = Leaflet.tileLayer(url, { maxZoom: 19, attribution: '© OpenStreetMap' }).addTo(map);
  let warned = false;
  layer.on('tileerror', () => {
    if (warned) return;
    warned = true;
    container.insertAdjacentHTML('afterend', `<p class="muted" data-tiles-warning>${t('noTiles')}</p>`);
  });
  return { map, L: Leaflet };
}
