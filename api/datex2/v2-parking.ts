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
import { clip, xmlAttr, xmlNumber, xmlText, xmlTime } from '../xml.js';

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

function document(city: Publisher, name: string, publicationTime: Date, extension: string | null): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<d2LogicalModel xmlns="${DATEX2_V2_NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" modelBaseVersion="2">`,
    `<exchange>${identification('supplierIdentification', city)}</exchange>`,
    '<payloadPublication xsi:type="GenericPublication" lang="de">',
    `<publicationTime>${xmlTime(publicationTime)}</publicationTime>`,
    identification('publicationCreator', city),
    `<genericPublicationName>${name}</genericPublicationName>`,
    extension === null ? '' : `<genericPublicationExtension>\n${extension}\n</genericPublicationExtension>`,
    '</payloadPublication>',
    '</d2LogicalModel>',
  ].filter(Boolean).join('\n') + '\n';
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

/** The static publication: every site with name, position, capacity and type. */
export function parkingTableV2(city: Publisher, snap: ParkingSnapshot): string {
  const extension = snap.sites.length === 0 ? null : [
    '<parkingTablePublication>',
    HEADER,
    `<parkingTable id="${PARKING_TABLE_ID}" version="${snap.tableVersion}">`,
    `<parkingTableVersionTime>${xmlTime(snap.tableVersionTime)}</parkingTableVersionTime>`,
    ...snap.sites.map(record),
    '</parkingTable>',
    '</parkingTablePublication>',
  ].join('\n');
  return document(city, 'ParkingTablePublication', snap.tableVersionTime, extension);
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

/** The live publication: occupied and vacant spaces, status and time of every site that has reported. */
export function parkingStatusV2(city: Publisher, snap: ParkingSnapshot): string {
  const reported = snap.sites.filter((s) => s.live !== null);
  const extension = reported.length === 0 ? null : [
    '<parkingStatusPublication>',
    `<parkingTableReference id="${PARKING_TABLE_ID}" targetClass="ParkingTable" version="${snap.tableVersion}"/>`,
    HEADER,
    ...reported.map(status),
    '</parkingStatusPublication>',
  ].join('\n');
  return document(city, 'ParkingStatusPublication', snap.statusTime, extension);
}
