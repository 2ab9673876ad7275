/**
 * Where an asset stands, checked before it is stored (issue 25): a position that is
 * missing, 0,0 or outside the city's area is refused with a message that says what to do.
 * 0,0 ("null island") is what empty form fields and a GPS fix that never came turn into;
 * outside the area mostly means latitude and longitude were swapped or mistyped.
 */
import { insideCityArea, type CityProfile } from '../city-profile.js';
import { HttpError } from './errors.js';

type Area = Pick<CityProfile, 'area' | 'name'>;

const fixed = (n: number): string => String(Math.round(n * 1e6) / 1e6);

/**
 * Null when the position is usable; otherwise the error to send (400). `field` prefixes
 * the field names in the message and details (`asset.` for a nested asset).
 */
export function positionProblem(city: Area, latitude: number | null | undefined, longitude: number | null | undefined, field = ''): HttpError | null {
  const missing = [latitude, longitude].some((v) => v === null || v === undefined || !Number.isFinite(v));
  if (missing) {
    const name = latitude === null || latitude === undefined || !Number.isFinite(latitude) ? `${field}latitude` : `${field}longitude`;
    return new HttpError(400, 'STADTFUNK_ERR_POSITION_MISSING',
      `${name}: the position is missing: use the phone's position, tap the map, or type latitude and longitude`, { details: { field: name } });
  }
  const lat = latitude as number;
  const lon = longitude as number;
  if (lat === 0 && lon === 0) {
    return new HttpError(400, 'STADTFUNK_ERR_POSITION_ZERO',
      `${field}latitude: 0,0 is not a position in ${city.name} (empty fields or a GPS fix that never came): use the phone's position, tap the map, or type latitude and longitude`,
      { details: { field: `${field}latitude` } });
  }
  if (!insideCityArea(city, lat, lon)) {
    const a = city.area;
    const swapped = insideCityArea(city, lon, lat);
    return new HttpError(400, 'STADTFUNK_ERR_POSITION_OUTSIDE',
      `${field}latitude: ${fixed(lat)}, ${fixed(lon)} lies outside ${city.name} (latitude ${a.minLatitude}…${a.maxLatitude}, longitude ${a.minLongitude}…${a.maxLongitude})` +
        (swapped ? ': latitude and longitude look swapped' : ': check the numbers, or tap the map where the asset stands'),
      { details: { field: `${field}latitude`, latitude: fixed(lat), longitude: fixed(lon), swapped: swapped ? 1 : 0, city: city.name } });
  }
  return null;
}

/** Throws the position's problem, if any. */
export function assertPosition(city: Area, latitude: number | null | undefined, longitude: number | null | undefined, field = ''): void {
  const problem = positionProblem(city, latitude, longitude, field);
  if (problem) throw problem;
}
