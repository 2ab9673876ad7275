// The position of a new asset, checked before it is sent (the API checks the same:
// api/position.ts): missing, 0,0 and outside the city's area are refused with what to do.
import { t } from '../i18n.js';

/** A typed coordinate: "51,2262" (German) and "51.2262" both read; empty is null, garbage NaN. */
export function parseCoordinate(text) {
  const value = String(text ?? '').trim().replace(/\s/g, '').replace(',', '.');
  if (value === '') return null;
  return /^[+-]?\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
}

const inside = (area, lat, lon) => lon >= area.minLongitude && lon <= area.maxLongitude && lat >= area.minLatitude && lat <= area.maxLatitude;

/** Null when usable, else { text, fields } naming the inputs to mark ('lat', 'lon'). */
export function checkPosition(city, latitude, longitude) {
  if (latitude === null || longitude === null) return { text: t('pos.missing'), fields: latitude === null ? ['lat', 'lon'] : ['lon'] };
  if (Number.isNaN(latitude) || Number.isNaN(longitude)) return { text: t('pos.number'), fields: Number.isNaN(latitude) ? ['lat'] : ['lon'] };
  if (latitude === 0 && longitude === 0) return { text: t('pos.zero', { city: city.name }), fields: ['lat', 'lon'] };
  if (!inside(city.map.area, latitude, longitude)) {
    return { text: t(inside(city.map.area, longitude, latitude) ? 'pos.swapped' : 'pos.outside', { city: city.name }), fields: ['lat', 'lon'] };
  }
  return null;
}
