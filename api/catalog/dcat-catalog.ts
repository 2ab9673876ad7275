/**
 * The open datasets as a DCAT-AP.de 3.0 catalog (https://www.dcat-ap.de/def/dcatde/3.0/spec/),
 * readable by harvesters still on 2.0 (GovData's ckanext-dcatde): one dcat:Catalog, one
 * dcat:Dataset per open dataset with its distributions (CSV export, JSON, GeoJSON, for
 * parking the four DATEX II feeds, and the SensorThings API), licence dl-de/by-2-0 with
 * dcatde:licenseAttributionByText on every distribution (Konvention 32 and 35),
 * publisher and contact point from the city profile, themes, keywords, spatial coverage
 * (the municipality as dcatde:politicalGeocodingURI, which 2.0 requires and 3.0 keeps,
 * mirrored in dct:spatial per Konvention 11, and the city area as a WKT polygon),
 * temporal coverage and dct:modified from the data, update frequency.
 *
 * Coded values are IRIs of the vocabularies DCAT-AP.de prescribes: the EU Publications
 * Office authority tables (data-theme, frequency, access-right, language, file-type,
 * planned-availability, distribution-status), ADMS publisher types and DCAT-AP.de's own
 * licence and political-geocoding lists. Resource IRIs are fragments of the catalog's
 * own URL, so they are the same in every serialisation and stable across restarts.
 */
import { LICENCE, type CityProfile } from '../../city-profile.js';
import type { PublishedKindRow } from '../../storage/index.js';
import { blank, dateTime, iri, ref, text, typed, type Resource, type Term } from './rdf-graph.js';

const EU = 'http://publications.europa.eu/resource/authority';
const theme = (code: string): Term => ref(`${EU}/data-theme/${code}`);
const fileType = (code: string): Term => ref(`${EU}/file-type/${code}`);
const mediaType = (type: string): Term => ref(`https://www.iana.org/assignments/media-types/${type}`);

export const CATALOG_PATH = '/api/v1/open/catalog';
export const STA_PATH = '/sta/v1.1';

interface DatasetText {
  title: string;
  description: string;
  keywords: string[];
  themes: string[];
}

/** German titles and descriptions (DCAT-AP.de portals show these), keywords and EU data themes. */
const DATASET_TEXT: Record<string, DatasetText> = {
  'air-quality': {
    title: 'Luftqualität an Straßenlaternen',
    description: 'Feinstaub (PM1, PM2,5, PM10), Stickstoffdioxid, Kohlendioxid, Temperatur, Luftfeuchte, Luftdruck und Lärm, gemessen von Sensoren an Straßenlaternen; Messwerte als Zeitreihen und aktueller Stand.',
    keywords: ['Luftqualität', 'Feinstaub', 'Stickstoffdioxid', 'Umwelt', 'Sensoren', 'LoRaWAN'],
    themes: ['ENVI', 'HEAL'],
  },
  parking: {
    title: 'Parken: Parkhäuser und Parkzonen',
    description: 'Freie und belegte Stellplätze der Parkhäuser (Zählung an Ein- und Ausfahrt) und der Parkzonen (Sensoren je Stellplatz, zonenweise zusammengefasst), auch als DATEX II für den Nationalen Zugangspunkt Mobilithek.',
    keywords: ['Parken', 'Parkhaus', 'Stellplätze', 'Belegung', 'DATEX II', 'Mobilität'],
    themes: ['TRAN'],
  },
  traffic: {
    title: 'Verkehrszählung',
    description: 'Fahrzeuge je Zählintervall nach Fahrstreifen, Richtung und Fahrzeugklasse sowie mittlere Geschwindigkeit an Zählstellen.',
    keywords: ['Verkehr', 'Verkehrszählung', 'Geschwindigkeit', 'Mobilität'],
    themes: ['TRAN'],
  },
  'water-level': {
    title: 'Wasserstände',
    description: 'Wasserstand über Pegelnullpunkt an Pegeln im Stadtgebiet.',
    keywords: ['Wasserstand', 'Pegel', 'Hochwasser', 'Umwelt'],
    themes: ['ENVI'],
  },
};

export interface CatalogDataset {
  id: string;
  title: string;
  description: string;
  assetKinds: string[];
}

export interface CatalogInput {
  /** Absolute base URL without trailing slash (PUBLIC_URL or the request's). */
  base: string;
  city: Readonly<CityProfile>;
  datasets: CatalogDataset[];
  kinds: PublishedKindRow[];
}

interface DistributionSpec {
  key: string;
  title: string;
  description: string;
  url: string;
  download: boolean;
  format: string;
  mediaType: string;
  conformsTo?: string;
}

function distributions(base: string, datasetId: string): DistributionSpec[] {
  const open = `${base}/api/v1/open/datasets/${datasetId}`;
  const specs: DistributionSpec[] = [
    { key: 'csv', title: 'CSV-Export der Messwerte', description: 'Alle Messwerte eines Zeitraums (Parameter from und to, ISO 8601; ohne: die letzten 24 Stunden), RFC 4180, eine Zeile je Messwert.', url: `${open}/export.csv`, download: true, format: 'CSV', mediaType: 'text/csv' },
    { key: 'json', title: 'Aktueller Stand (JSON)', description: 'Die neuesten Werte jedes öffentlichen Sensorstandorts.', url: `${open}/latest`, download: true, format: 'JSON', mediaType: 'application/json' },
    { key: 'geojson', title: 'Aktueller Stand (GeoJSON)', description: 'Die neuesten Werte jedes öffentlichen Sensorstandorts als GeoJSON FeatureCollection (RFC 7946).', url: `${open}/latest?format=geojson`, download: true, format: 'GEOJSON', mediaType: 'application/geo+json' },
    { key: 'sta', title: 'OGC SensorThings API 1.1', description: 'Standorte, Sensoren und Messwerte über die OGC SensorThings API 1.1.', url: `${base}${STA_PATH}`, download: false, format: 'JSON', mediaType: 'application/json', conformsTo: 'http://www.opengis.net/doc/is/sensorthings/1.1' },
  ];
  if (datasetId === 'parking') {
    for (const [version, ns] of [['v2.3', 'http://datex2.eu/schema/2/2_0'], ['v3.7', 'http://datex2.eu/schema/3/parking']] as const) {
      specs.push(
        { key: `datex2-${version}-table`, title: `DATEX II ${version.slice(1)} ParkingTablePublication`, description: 'Statische Daten: Parkhäuser und Parkzonen mit Name, Lage, Kapazität und Art.', url: `${base}/api/v1/open/datex2/${version}/parking-table`, download: true, format: 'XML', mediaType: 'application/xml', conformsTo: ns },
        { key: `datex2-${version}-status`, title: `DATEX II ${version.slice(1)} ParkingStatusPublication`, description: 'Dynamische Daten: freie und belegte Stellplätze, Status, Zeitstempel.', url: `${base}/api/v1/open/datex2/${version}/parking-status`, download: true, format: 'XML', mediaType: 'application/xml', conformsTo: ns },
      );
    }
  }
  return specs;
}

/** A WKT polygon of the city's area (GeoSPARQL wktLiteral: longitude first, CRS84). */
function areaPolygon(a: CityProfile['area']): string {
  const ring = [[a.minLongitude, a.minLatitude], [a.maxLongitude, a.minLatitude], [a.maxLongitude, a.maxLatitude], [a.minLongitude, a.maxLatitude], [a.minLongitude, a.minLatitude]];
  return `POLYGON((${ring.map(([lon, lat]) => `${lon} ${lat}`).join(', ')}))`;
}

function newest(times: (Date | null)[]): Date | null {
  const ms = times.filter((t): t is Date => t !== null).map((t) => t.getTime());
  return ms.length === 0 ? null : new Date(Math.max(...ms));
}

function oldest(times: (Date | null)[]): Date | null {
  const ms = times.filter((t): t is Date => t !== null).map((t) => t.getTime());
  return ms.length === 0 ? null : new Date(Math.min(...ms));
}

/** The catalog graph and the newest change of what it describes. */
export function dcatCatalog(input: CatalogInput): { resources: Resource[]; lastModified: Date | null } {
  const { base, city } = input;
  const catalogId = `${base}${CATALOG_PATH}`;
  const publisherId = `${catalogId}#publisher`;
  const geocoding = `http://dcat-ap.de/def/politicalGeocoding/regionalKey/${city.regionalKey}`;
  const licence = ref(LICENCE.dcatUri);
  const attribution = text(city.attribution);
  const available = ref(`${EU}/planned-availability/AVAILABLE`);
  const completed = ref(`${EU}/distribution-status/COMPLETED`);
  const german = ref(`${EU}/language/DEU`);
  // DCAT 3's literal forms: DCAT-AP 3.0 wants locn:geometry to be a node (a locn:Geometry), not a WKT literal.
  const spatial = blank([iri('dct:Location')], [
    [iri('dcat:bbox'), typed(areaPolygon(city.area), 'geo:wktLiteral')],
    [iri('dcat:centroid'), typed(`POINT(${city.mapCenter.longitude} ${city.mapCenter.latitude})`, 'geo:wktLiteral')],
  ]);
  const contact = blank([iri('vcard:Kind'), iri('vcard:Organization')], [
    [iri('vcard:fn'), text(city.publisher)],
    [iri('vcard:hasEmail'), ref(`mailto:${city.contactEmail}`)],
  ]);

  const resources: Resource[] = [];
  const datasetIds: string[] = [];
  const modified: (Date | null)[] = [];
  for (const d of input.datasets) {
    const words = DATASET_TEXT[d.id];
    const rows = input.kinds.filter((k) => d.assetKinds.includes(k.kind));
    const last = newest(rows.map((r) => r.lastTime));
    const first = oldest(rows.map((r) => r.firstTime));
    modified.push(last);
    const datasetId = `${catalogId}#dataset-${d.id}`;
    datasetIds.push(datasetId);
    const dists = distributions(base, d.id).map((s): Resource => ({
      id: `${catalogId}#dataset-${d.id}-${s.key}`,
      types: [iri('dcat:Distribution')],
      props: [
        [iri('dct:title'), text(s.title, 'de')],
        [iri('dct:description'), text(s.description, 'de')],
        [iri('dcat:accessURL'), ref(s.url)],
        ...(s.download ? [[iri('dcat:downloadURL'), ref(s.url)] as [string, Term]] : []),
        [iri('dct:format'), fileType(s.format)],
        [iri('dcat:mediaType'), mediaType(s.mediaType)],
        ...(s.conformsTo ? [[iri('dct:conformsTo'), ref(s.conformsTo)] as [string, Term]] : []),
        [iri('dct:license'), licence],
        [iri('dcatde:licenseAttributionByText'), attribution],
        [iri('dcatap:availability'), available],
        [iri('adms:status'), completed],
        ...(last ? [[iri('dct:modified'), dateTime(last)] as [string, Term]] : []),
      ],
    }));
    resources.push({
      id: datasetId,
      types: [iri('dcat:Dataset')],
      props: [
        [iri('dct:title'), text(words?.title ?? d.title, 'de')],
        [iri('dct:title'), text(d.title, 'en')],
        [iri('dct:description'), text(words?.description ?? d.description, 'de')],
        [iri('dct:description'), text(d.description, 'en')],
        [iri('dct:identifier'), text(datasetId)],
        [iri('dct:publisher'), ref(publisherId)],
        [iri('dcat:contactPoint'), contact],
        ...(words?.keywords ?? []).map((k): [string, Term] => [iri('dcat:keyword'), text(k, 'de')]),
        ...(words?.themes ?? []).map((t): [string, Term] => [iri('dcat:theme'), theme(t)]),
        [iri('dct:accessRights'), ref(`${EU}/access-right/PUBLIC`)],
        [iri('dct:accrualPeriodicity'), ref(`${EU}/frequency/UPDATE_CONT`)],
        [iri('dct:language'), german],
        [iri('dcatde:politicalGeocodingURI'), ref(geocoding)],
        [iri('dcatde:politicalGeocodingLevelURI'), ref('http://dcat-ap.de/def/politicalGeocoding/Level/municipality')],
        [iri('dct:spatial'), ref(geocoding)],
        [iri('dct:spatial'), spatial],
        ...(first ? [[iri('dct:temporal'), blank([iri('dct:PeriodOfTime')], [[iri('dcat:startDate'), dateTime(first)]])] as [string, Term]] : []),
        ...(last ? [[iri('dct:modified'), dateTime(last)] as [string, Term]] : []),
        ...dists.map((x): [string, Term] => [iri('dcat:distribution'), ref(x.id!)]),
      ],
    });
    resources.push(...dists);
  }

  const lastModified = newest(modified);
  const catalog: Resource = {
    id: catalogId,
    types: [iri('dcat:Catalog')],
    props: [
      [iri('dct:title'), text(`Offene Sensordaten ${city.name}`, 'de')],
      [iri('dct:title'), text(`Open sensor data ${city.name}`, 'en')],
      [iri('dct:description'), text(`Messwerte des städtischen Sensornetzes (LoRaWAN) von ${city.publisher}: Luftqualität, Parken, Verkehr und Wasserstände, frei nutzbar unter ${LICENCE.name}.`, 'de')],
      [iri('dct:publisher'), ref(publisherId)],
      [iri('foaf:homepage'), ref(`${base}/`)],
      [iri('dct:language'), german],
      [iri('dct:license'), licence],
      [iri('dct:spatial'), ref(geocoding)],
      ...(lastModified ? [[iri('dct:modified'), dateTime(lastModified)] as [string, Term]] : []),
      ...datasetIds.map((id): [string, Term] => [iri('dcat:dataset'), ref(id)]),
    ],
  };
  const publisher: Resource = {
    id: publisherId,
    types: [iri('foaf:Agent'), iri('foaf:Organization')],
    props: [
      [iri('foaf:name'), text(city.publisher)],
      [iri('dct:type'), ref('http://purl.org/adms/publishertype/LocalAuthority')],
      ...(city.publisherUrl ? [[iri('foaf:homepage'), ref(city.publisherUrl)] as [string, Term]] : []),
    ],
  };
  return { resources: [catalog, publisher, ...resources], lastModified };
}
