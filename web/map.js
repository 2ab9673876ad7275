// Leaflet, loaded on demand. Centre, zoom and tile server come from the city profile
// (GET /api/v1/open/city; localStorage 'stadtfunk.tiles' still overrides the tiles for one
// browser), and the map stays usable (markers, clicks) when tiles cannot be loaded.
// A map belongs to a view: when the view's signal aborts (the user left), the map is
// removed, also when that happens while it is still being made.
import { t } from './i18n.js';

export function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}

let leaflet = null;
function L() {
  leaflet ??= loadScript('/vendor/leaflet/leaflet.js').then(() => window.L);
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

/** Thrown (and ignored by the router) when a view was left while it was being drawn. */
export class ViewLeft extends Error {
  constructor() {
    super('view left');
    this.name = 'ViewLeft';
  }
}

export async function createMap(container, options = {}) {
  const [Leaflet, city] = await Promise.all([L(), cityProfile()]);
  if (options.signal?.aborted || !container.isConnected) throw new ViewLeft();
  const center = options.center ?? [city.map.center.latitude, city.map.center.longitude];
  const map = Leaflet.map(container, { keyboard: true }).setView(center, options.zoom ?? city.map.zoom);
  const url = localStorage.getItem('stadtfunk.tiles') ?? city.map.tileUrl;
  const layer = Leaflet.tileLayer(url, { maxZoom: 19, attribution: city.map.tileAttribution }).addTo(map);
  let warned = false;
  layer.on('tileerror', () => {
    // A tile may fail after the view was left: the container then has no parent.
    if (warned || !container.isConnected || !container.parentNode) return;
    warned = true;
    container.insertAdjacentElement('afterend', Object.assign(document.createElement('p'), { className: 'muted', textContent: t('noTiles') }));
    container.nextElementSibling.dataset.tilesWarning = '';
  });
  // Leaflet finishes a zoom animation in a timer (250 ms) that reads the map's panes; run
  // after remove() it throws "Cannot read properties of undefined (reading '_leaflet_pos')".
  // So a map left during a zoom is removed when the zoom has ended.
  options.signal?.addEventListener('abort', () => {
    if (map._animatingZoom) map.once('zoomend', () => map.remove());
    else map.remove();
  }, { once: true });
  return { map, L: Leaflet, city };
}

/**
 * Fits the map to the points ([lat, lon] pairs): all in view, not closer than street
 * level. Without points it stays on the city's centre.
 */
export function fitToPoints(map, L, points, maxZoom = 17) {
  if (points.length === 0) return;
  // Not animated: the map is new, and an animation would still run if the view is left at once.
  if (points.length === 1) {
    map.setView(points[0], Math.min(maxZoom, 16), { animate: false });
    return;
  }
  map.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom, animate: false });
}
