/**
 * DATEX II 3.7 Parking module (DATEXII_3_Parking.xsd, rooted at DATEXII_3_D2Payload.xsd's
 * `payload` element): the same content as the 2.3 publications, for subscribers that
 * move to 3. A ParkingTablePublication holds one parkingTable whose sites are `Place`s
 * (FacilityObject → Facility → HierarchyElementGeneral → Place, in schema order: name,
 * lastUpdated, locationReference; layer, type; layout, commonComponents with the
 * structure type and total spaces); a ParkingStatusPublication holds one `PlaceStatus`
 * per reporting site (reference, lastUpdated; occupancy; status).
 *
 * 3.x has no generic wrapper that may stay empty: a table needs one place and a status
 * publication one status. With nothing to publish the writers return null.
 */
import type { CityProfile } from '../../city-profile.js';
import type { ParkingSite, ParkingSnapshot } from './parking-sites.js';
import { PARKING_TABLE_ID } from './v2-parking.js';
import { clip, joinLines, xmlAttr, xmlNumber, xmlText, xmlTime } from '../xml.js';

type Publisher = Pick<CityProfile, 'datexNationalId'>;

const NAMESPACES = [
  'xmlns:d2="http://datex2.eu/schema/3/d2Payload"',
  'xmlns:com="http://datex2.eu/schema/3/common"',
  'xmlns:fac="http://datex2.eu/schema/3/facilities"',
  'xmlns:loc="http://datex2.eu/schema/3/locationReferencing"',
  'xmlns:prk="http://datex2.eu/schema/3/parking"',
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
].join(' ');

const HEADER = '<prk:headerInformation><com:confidentiality>noRestriction</com:confidentiality><com:informationStatus>real</com:informationStatus></prk:headerInformation>';

/** DATEX II 3 LayoutEnum from the 2.3 ParkingLayoutEnum a garage registered; null where 3 has no match. */
const LAYOUT_V3: Record<string, string> = {
  multiStorey: 'building', underground: 'building', undergroundAndMultistorey: 'building', automatedParkingGarage: 'building',
  covered: 'building', openSpace: 'openSpace', nested: 'nested', field: 'field',
};

function* headLines(city: Publisher, type: string, publicationTime: Date): Generator<string> {
  yield '<?xml version="1.0" encoding="UTF-8"?>';
  yield `<d2:payload ${NAMESPACES} xsi:type="prk:${type}" lang="de" modelBaseVersion="3">`;
  yield `<com:publicationTime>${xmlTime(publicationTime)}</com:publicationTime>`;
  yield `<com:publicationCreator><com:country>de</com:country><com:nationalIdentifier>${xmlText(city.datexNationalId)}</com:nationalIdentifier></com:publicationCreator>`;
}

function place(s: ParkingSite): string {
  const layout = s.layout === null ? undefined : LAYOUT_V3[s.layout];
  return [
    `<prk:hierarchyElementGeneral xsi:type="prk:Place" id="${xmlAttr(s.id)}" version="${s.version}">`,
    `<fac:name><com:values><com:value lang="de">${xmlText(clip(s.name, 1024))}</com:value></com:values></fac:name>`,
    `<fac:lastUpdated>${xmlTime(s.versionTime)}</fac:lastUpdated>`,
    `<fac:locationReference xsi:type="loc:PointLocation"><loc:pointByCoordinates><loc:pointCoordinates><loc:latitude>${xmlNumber(s.latitude)}</loc:latitude><loc:longitude>${xmlNumber(s.longitude)}</loc:longitude></loc:pointCoordinates></loc:pointByCoordinates></fac:locationReference>`,
    '<prk:layer>1</prk:layer><prk:type>place</prk:type>',
    layout === undefined ? '' : `<prk:layout>${layout}</prk:layout>`,
    '<prk:commonComponents><prk:characteristics>',
    `<prk:structureType>${s.kind === 'garage' ? 'offStreetStructure' : 'onStreet'}</prk:structureType>`,
    '<prk:openToPublic>true</prk:openToPublic>',
    s.capacity === null ? '' : `<prk:spacesTotal>${s.capacity}</prk:spacesTotal>`,
    '</prk:characteristics></prk:commonComponents>',
    '</prk:hierarchyElementGeneral>',
  ].join('');
}

function* tableLines(city: Publisher, snap: ParkingSnapshot): Generator<string> {
  yield* headLines(city, 'ParkingTablePublication', snap.tableVersionTime);
  yield HEADER;
  yield `<prk:parkingTable id="${PARKING_TABLE_ID}" version="${snap.tableVersion}">`;
  yield `<prk:versionTime>${xmlTime(snap.tableVersionTime)}</prk:versionTime>`;
  for (const site of snap.sites) yield place(site);
  yield '</prk:parkingTable>';
  yield '</d2:payload>';
}

/** The static publication line by line, or null when no site is published. */
export function parkingTableV3Lines(city: Publisher, snap: ParkingSnapshot): Iterable<string> | null {
  return snap.sites.length === 0 ? null : tableLines(city, snap);
}

export function parkingTableV3(city: Publisher, snap: ParkingSnapshot): string | null {
  const lines = parkingTableV3Lines(city, snap);
  return lines === null ? null : joinLines(lines);
}

function placeStatus(s: ParkingSite): string {
  const l = s.live!;
  return [
    '<prk:parkingStatusInformation xsi:type="prk:PlaceStatus">',
    `<fac:reference id="${xmlAttr(s.id)}" version="${s.version}" targetClass="fac:FacilityObject"/>`,
    `<fac:lastUpdated>${xmlTime(l.time)}</fac:lastUpdated>`,
    '<prk:occupancy>',
    l.spacesNow === null ? '' : `<prk:numberOfSpacesOverride>${l.spacesNow}</prk:numberOfSpacesOverride>`,
    l.vacant === null ? '' : `<prk:numberOfVacantSpaces>${l.vacant}</prk:numberOfVacantSpaces>`,
    l.occupied === null ? '' : `<prk:numberOfOccupiedSpaces>${l.occupied}</prk:numberOfOccupiedSpaces>`,
    l.occupancyPercent === null ? '' : `<prk:occupancy>${xmlNumber(l.occupancyPercent)}</prk:occupancy>`,
    '</prk:occupancy>',
    `<prk:status>${l.status}</prk:status>`,
    '</prk:parkingStatusInformation>',
  ].join('');
}

function* statusLines(city: Publisher, snap: ParkingSnapshot, reported: ParkingSite[]): Generator<string> {
  yield* headLines(city, 'ParkingStatusPublication', snap.statusTime);
  yield `<prk:parkingTableReference id="${PARKING_TABLE_ID}" version="${snap.tableVersion}" targetClass="prk:ParkingTable"/>`;
  yield HEADER;
  for (const site of reported) yield placeStatus(site);
  yield '</d2:payload>';
}

/** The live publication line by line, or null when no site has reported yet. */
export function parkingStatusV3Lines(city: Publisher, snap: ParkingSnapshot): Iterable<string> | null {
  const reported = snap.sites.filter((s) => s.live !== null);
  return reported.length === 0 ? null : statusLines(city, snap, reported);
}

export function parkingStatusV3(city: Publisher, snap: ParkingSnapshot): string | null {
  const lines = parkingStatusV3Lines(city, snap);
  return lines === null ? null : joinLines(lines);
}
