/**
 * The city profile: who publishes the data and where the city is. Every outward format
 * (open-data JSON, GeoJSON and CSV, the catalog, DATEX II, SensorThings) and the web app
 * take publisher, attribution and map settings from here, never from constants of their own.
 *
 * Read from CITY_* variables by config.ts (the only module that sees process.env). The
 * defaults describe a demonstration city on Düsseldorf's map (the simulated fleet stands
 * there); `isDefault` tells the service to warn at start that nothing names the real
 * publisher yet.
 */
import { ConfigError } from './config-error.js';

/** Datenlizenz Deutschland – Namensnennung – 2.0: the licence of all open data. */
export const LICENCE = Object.freeze({
  id: 'dl-de/by-2-0',
  name: 'Datenlizenz Deutschland – Namensnennung – Version 2.0',
  url: 'https://www.govdata.de/dl-de/by-2-0',
  /** The licence in the DCAT-AP.de licence vocabulary (licenses-open.rdf). */
  dcatUri: 'http://dcat-ap.de/def/licenses/dl-by-de/2.0',
});

export interface CityProfile {
  /** Name of the city, e.g. `Düsseldorf`. CITY_NAME. */
  name: string;
  /** The body that publishes the data, e.g. `Landeshauptstadt Düsseldorf`. CITY_PUBLISHER. */
  publisher: string;
  /** Publisher's web site, or null. CITY_PUBLISHER_URL. */
  publisherUrl: string | null;
  /** Attribution required by dl-de/by-2-0 (without the licence id). CITY_ATTRIBUTION, default the publisher. */
  attribution: string;
  /** Contact for the open data (DCAT contact point). CITY_CONTACT_EMAIL. */
  contactEmail: string;
  /** Amtlicher Regionalschlüssel, 12 digits (DCAT-AP.de politicalGeocodingURI). CITY_ARS. */
  regionalKey: string;
  /** DATEX II national identifier of the publication supplier, e.g. `DE-MDM-Duesseldorf`. CITY_DATEX_NATIONAL_ID. */
  datexNationalId: string;
  /** Centre of the web app's maps, WGS84. CITY_MAP_CENTER as `lat,lon`. */
  mapCenter: { latitude: number; longitude: number };
  /** Initial zoom of the web app's maps. CITY_MAP_ZOOM, default 13. */
  mapZoom: number;
  /** The city's area as minLon,minLat,maxLon,maxLat: positions outside it are refused at registration. CITY_AREA. */
  area: { minLongitude: number; minLatitude: number; maxLongitude: number; maxLatitude: number };
  /** Map tile URL template with {z}/{x}/{y} (and optionally {s}). CITY_TILE_URL. */
  tileUrl: string;
  /** Attribution the tile server requires. CITY_TILE_ATTRIBUTION. */
  tileAttribution: string;
  /** No CITY_* variable was set: the demonstration profile. */
  isDefault: boolean;
}

type Env = Record<string, string | undefined>;

const DEFAULTS = {
  name: 'Düsseldorf',
  publisher: 'Landeshauptstadt Düsseldorf (stadtfunk demo)',
  contactEmail: 'opendata@example.org',
  regionalKey: '051110000000',
  datexNationalId: 'DE-MDM-Duesseldorf',
  mapCenter: '51.2277,6.7735',
  area: '6.6888,51.1245,6.9399,51.3525',
  tileUrl: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
  tileAttribution: '© OpenStreetMap contributors',
};

function read(env: Env, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

function numbers(env: Env, name: string, fallback: string, count: number, example: string): number[] {
  const value = read(env, name) ?? fallback;
  const parts = value.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  if (parts.length !== count || parts.some((p) => p === '') || values.some((n) => !Number.isFinite(n))) {
    throw new ConfigError(name, `"${value}" is not ${count} comma-separated numbers`, example);
  }
  return values;
}

function httpUrl(value: string, name: string, example: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value.replaceAll(/\{[a-z]\}/g, '0'));
  } catch {
    throw new ConfigError(name, `"${value}" is not a URL`, example);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ConfigError(name, `protocol ${parsed.protocol} is not http: or https:`, example);
  return value;
}

/** The profile from CITY_* variables; throws ConfigError naming the variable on a bad value. */
export function loadCityProfile(env: Env): Readonly<CityProfile> {
  const isDefault = !Object.keys(env).some((k) => k.startsWith('CITY_') && read(env, k) !== null);
  const publisher = read(env, 'CITY_PUBLISHER') ?? DEFAULTS.publisher;

  const contactEmail = read(env, 'CITY_CONTACT_EMAIL') ?? DEFAULTS.contactEmail;
  if (!/^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>".]+$/.test(contactEmail)) {
    throw new ConfigError('CITY_CONTACT_EMAIL', `"${contactEmail}" is not an e-mail address`, 'opendata@duesseldorf.de');
  }
  const regionalKey = read(env, 'CITY_ARS') ?? DEFAULTS.regionalKey;
  if (!/^\d{12}$/.test(regionalKey)) {
    throw new ConfigError('CITY_ARS', `"${regionalKey}" is not a 12-digit Amtlicher Regionalschlüssel`, '051110000000');
  }
  const datexNationalId = read(env, 'CITY_DATEX_NATIONAL_ID') ?? DEFAULTS.datexNationalId;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(datexNationalId)) {
    throw new ConfigError('CITY_DATEX_NATIONAL_ID', `"${datexNationalId}" may hold only letters, digits, _ . and -`, 'DE-MDM-Duesseldorf');
  }
  const [minLongitude, minLatitude, maxLongitude, maxLatitude] = numbers(env, 'CITY_AREA', DEFAULTS.area, 4, '6.6888,51.1245,6.9399,51.3525') as [number, number, number, number];
  if (minLongitude >= maxLongitude || minLatitude >= maxLatitude || Math.abs(minLatitude) > 90 || Math.abs(maxLatitude) > 90 || Math.abs(minLongitude) > 180 || Math.abs(maxLongitude) > 180) {
    throw new ConfigError('CITY_AREA', 'must be minLon,minLat,maxLon,maxLat with min below max', '6.6888,51.1245,6.9399,51.3525');
  }
  const area = { minLongitude, minLatitude, maxLongitude, maxLatitude };
  // A city that sets its area but not its centre gets the middle of its area.
  const centerDefault = read(env, 'CITY_AREA') === null ? DEFAULTS.mapCenter : `${(minLatitude + maxLatitude) / 2},${(minLongitude + maxLongitude) / 2}`;
  const [latitude, longitude] = numbers(env, 'CITY_MAP_CENTER', centerDefault, 2, '51.2277,6.7735') as [number, number];
  // Inside the area also catches longitude and latitude swapped.
  if (!insideCityArea({ area }, latitude, longitude)) {
    throw new ConfigError('CITY_MAP_CENTER', `${latitude},${longitude} must be latitude,longitude inside CITY_AREA (${read(env, 'CITY_AREA') === null ? 'the default area' : 'as set'})`, '51.2277,6.7735');
  }
  const zoomText = read(env, 'CITY_MAP_ZOOM') ?? '13';
  const mapZoom = Number(zoomText);
  if (!/^\d+$/.test(zoomText) || mapZoom < 1 || mapZoom > 19) throw new ConfigError('CITY_MAP_ZOOM', `"${zoomText}" is not a zoom level 1..19`, '13');

  const tileUrl = httpUrl(read(env, 'CITY_TILE_URL') ?? DEFAULTS.tileUrl, 'CITY_TILE_URL', 'https://tile.openstreetmap.org/{z}/{x}/{y}.png');
  if (!/\{z\}/.test(tileUrl) || !/\{x\}/.test(tileUrl) || !/\{y\}/.test(tileUrl)) {
    throw new ConfigError('CITY_TILE_URL', 'must contain {z}, {x} and {y}', 'https://tile.openstreetmap.org/{z}/{x}/{y}.png');
  }
  const publisherUrl = read(env, 'CITY_PUBLISHER_URL');
  return Object.freeze({
    name: read(env, 'CITY_NAME') ?? DEFAULTS.name,
    publisher,
    publisherUrl: publisherUrl === null ? null : httpUrl(publisherUrl, 'CITY_PUBLISHER_URL', 'https://www.duesseldorf.de'),
    attribution: read(env, 'CITY_ATTRIBUTION') ?? publisher,
    contactEmail,
    regionalKey,
    datexNationalId,
    mapCenter: { latitude, longitude },
    mapZoom,
    area,
    tileUrl,
    tileAttribution: read(env, 'CITY_TILE_ATTRIBUTION') ?? DEFAULTS.tileAttribution,
    isDefault,
  });
}

/** The attribution line dl-de/by-2-0 asks for: who, and under which licence. */
export function attributionLine(profile: Pick<CityProfile, 'attribution'>): string {
  return `${profile.attribution}, ${LICENCE.id}`;
}

/** Whether a WGS84 position lies inside the city's area. */
export function insideCityArea(profile: Pick<CityProfile, 'area'>, latitude: number, longitude: number): boolean {
  const a = profile.area;
  return longitude >= a.minLongitude && longitude <= a.maxLongitude && latitude >= a.minLatitude && latitude <= a.maxLatitude;
}
