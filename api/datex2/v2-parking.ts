/**
 * DATEX II 2.3 (namespace http://datex2.eu/schema/2/2_0, DATEXIISchema_2_2_3.xsd) parking
 * publications as German cities publish them on Mobilithek (the Aachen feeds in
 * ../shared/standards/datex2/examples/): a d2LogicalModel whose payload is a
 * GenericPublication named ParkingTablePublication or ParkingStatusPublication, the
 * publication inside genericPublicationExtension, each site an UrbanParkingSite.
 *
 * Element order follows the schema's sequences (ParkingRecord → ParkingSite →
 * UrbanParkingSite; ParkingRecordStatus → ParkingSiteStatus). Where a feed would have
 * nothing to list, the GenericPublication goes without its extension: the schema wants
 * at least one parkingRecord in a table and one parkingRecordStatus in a status
 * publication, and an empty but valid document tells a subscriber more than an error.
 */
import type { CityProfile } from '../../city-profile.js';
import type { ParkingSite, ParkingSnapshot } from './parking-sites.js';
import { clip, joinLines, xmlAttr, xmlNumber, xmlText, xmlTime } from '../xml.js';

export const DATEX2_V2_NAMESPACE = 'http://datex2.eu/schema/2/2_0';
/** The parking table's id in both publications; its version is the snapshot's. */
export const PARKING_TABLE_ID = 'stadtfunk-parking';

type Publisher = Pick<CityProfile, 'datexNationalId'>;

function multilingual(element: string, value: string): string {
  return `<${element}><values><value lang="de">${xmlText(clip(value, 1024))}</value></values></${element}>`;
}

function identification(element: string, city: Publisher): string {
  return `<${element}><country>de</country><nationalIdentifier>${xmlText(city.datexNationalId)}</nationalIdentifier></${element}>`;
}

/** The d2LogicalModel around a GenericPublication, line by line; without extension when it lists nothing. */
function* documentLines(city: Publisher, name: string, publicationTime: Date, extension: Iterable<string> | null): Generator<string> {
  yield '<?xml version="1.0" encoding="UTF-8"?>';
  yield `<d2LogicalModel xmlns="${DATEX2_V2_NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" modelBaseVersion="2">`;
  yield `<exchange>${identification('supplierIdentification', city)}</exchange>`;
  yield '<payloadPublication xsi:type="GenericPublication" lang="de">';
  yield `<publicationTime>${xmlTime(publicationTime)}</publicationTime>`;
  yield identification('publicationCreator', city);
  yield `<genericPublicationName>${name}</genericPublicationName>`;
  if (extension !== null) {
    yield '<genericPublicationExtension>';
    yield* extension;
    yield '</genericPublicationExtension>';
  }
  yield '</payloadPublication>';
  yield '</d2LogicalModel>';
}

const HEADER = '<headerInformation><confidentiality>noRestriction</confidentiality><informationStatus>real</informationStatus></headerInformation>';

function record(s: ParkingSite): string {
  return [
    `<parkingRecord xsi:type="UrbanParkingSite" id="${xmlAttr(s.id)}" version="${s.version}">`,
    multilingual('parkingName', s.name),
    `<parkingRecordVersionTime>${xmlTime(s.versionTime)}</parkingRecordVersionTime>`,
    s.capacity === null ? '' : `<parkingNumberOfSpaces>${s.capacity}</parkingNumberOfSpaces>`,
    // Garages count cars in and out; zones add up one sensor per bay.
    `<parkingOccupanyDetectionType>${s.kind === 'garage' ? 'balancing' : 'singleSpaceDetection'}</parkingOccupanyDetectionType>`,
    `<parkingLocation xsi:type="Point"><pointByCoordinates><pointCoordinates><latitude>${xmlNumber(s.latitude)}</latitude><longitude>${xmlNumber(s.longitude)}</longitude></pointCoordinates></pointByCoordinates></parkingLocation>`,
    s.layout === null ? '' : `<parkingLayout>${s.layout}</parkingLayout>`,
    `<urbanParkingSiteType>${s.kind === 'garage' ? 'offStreetParking' : 'onStreetParking'}</urbanParkingSiteType>`,
    s.zone === null ? '' : multilingual('parkingZone', s.zone),
    '</parkingRecord>',
  ].join('');
}

function* tableLines(snap: ParkingSnapshot): Generator<string> {
  yield '<parkingTablePublication>';
  yield HEADER;
  yield `<parkingTable id="${PARKING_TABLE_ID}" version="${snap.tableVersion}">`;
  yield `<parkingTableVersionTime>${xmlTime(snap.tableVersionTime)}</parkingTableVersionTime>`;
  for (const site of snap.sites) yield record(site);
  yield '</parkingTable>';
  yield '</parkingTablePublication>';
}

/** The static publication, line by line: every site with name, position, capacity and type. */
export function parkingTableV2Lines(city: Publisher, snap: ParkingSnapshot): Iterable<string> {
  return documentLines(city, 'ParkingTablePublication', snap.tableVersionTime, snap.sites.length === 0 ? null : tableLines(snap));
}

export function parkingTableV2(city: Publisher, snap: ParkingSnapshot): string {
  return joinLines(parkingTableV2Lines(city, snap));
}

function status(s: ParkingSite): string {
  const l = s.live!;
  return [
    '<parkingRecordStatus xsi:type="ParkingSiteStatus">',
    `<parkingRecordReference id="${xmlAttr(s.id)}" targetClass="ParkingRecord" version="${s.version}"/>`,
    `<parkingStatusOriginTime>${xmlTime(l.time)}</parkingStatusOriginTime>`,
    '<parkingOccupancy>',
    l.spacesNow === null ? '' : `<parkingNumberOfSpacesOverride>${l.spacesNow}</parkingNumberOfSpacesOverride>`,
    l.vacant === null ? '' : `<parkingNumberOfVacantSpaces>${l.vacant}</parkingNumberOfVacantSpaces>`,
    l.occupied === null ? '' : `<parkingNumberOfOccupiedSpaces>${l.occupied}</parkingNumberOfOccupiedSpaces>`,
    l.occupancyPercent === null ? '' : `<parkingOccupancy>${xmlNumber(l.occupancyPercent)}</parkingOccupancy>`,
    '</parkingOccupancy>',
    `<parkingSiteStatus>${l.status}</parkingSiteStatus>`,
    '</parkingRecordStatus>',
  ].join('');
}

function* statusLines(snap: ParkingSnapshot, reported: ParkingSite[]): Generator<string> {
  yield '<parkingStatusPublication>';
  yield `<parkingTableReference id="${PARKING_TABLE_ID}" targetClass="ParkingTable" version="${snap.tableVersion}"/>`;
  yield HEADER;
  for (const site of reported) yield status(site);
  yield '</parkingStatusPublication>';
}

/** The live publication, line by line: occupied and vacant spaces, status and time of every site that has reported. */
export function parkingStatusV2Lines(city: Publisher, snap: ParkingSnapshot): Iterable<string> {
  const reported = snap.sites.filter((s) => s.live !== null);
  return documentLines(city, 'ParkingStatusPublication', snap.statusTime, reported.length === 0 ? null : statusLines(snap, reported));
}

export function parkingStatusV2(city: Publisher, snap: ParkingSnapshot): string {
  return joinLines(parkingStatusV2Lines(city, snap));
}
