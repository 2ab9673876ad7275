/**
 * The parking sites stadtfunk publishes in DATEX II, one model for both versions:
 *
 * - each public garage is an off-street site: name, zone and position from the registry,
 *   capacity from the registry (assets.capacity) or else from its counter's latest
 *   `total_spaces`; its status from the counter's latest `free_spaces` / `total_spaces`;
 * - each zone's parking bays together are one on-street site, public bays or not (a
 *   count and a centroid show no single bay): its name is the zone's id, its position
 *   the mean of its bays' positions, its capacity the number of its bays, its status the
 *   bays occupied and free by their latest `occupied` reading, as the open zone totals
 *   count them (a bay silent past PARKING_STALE_AFTER_S counts as neither).
 *
 * A site without a position cannot be a DATEX II record (parkingLocation is required)
 * and is left out. Record ids are the garage's asset id and `zone/<zone>` (asset ids
 * never contain '/'), stable across restarts. A record's version is derived from what
 * the table says about it (name, zone, position, capacity, kind), so it changes exactly
 * when the record does and the status publication can reference it without state.
 */
import { createHash } from 'node:crypto';
import type { GarageSiteRow, ZoneSiteRow } from '../../storage/index.js';

export type SiteStatus = 'spacesAvailable' | 'full' | 'unknown';

export interface ParkingSiteStatus {
  /** Time of the newest reading the numbers come from. */
  time: Date;
  /** Spaces now, when a counter says so (DATEX II parkingNumberOfSpacesOverride). */
  spacesNow: number | null;
  vacant: number | null;
  occupied: number | null;
  /** Occupied share of the known spaces, percent with two decimals; null when unknown. */
  occupancyPercent: number | null;
  status: SiteStatus;
}

export interface ParkingSite {
  id: string;
  version: string;
  /** When the record last changed in the registry. */
  versionTime: Date;
  kind: 'garage' | 'zone';
  name: string;
  zone: string | null;
  latitude: number;
  longitude: number;
  capacity: number | null;
  /** DATEX II 2.3 ParkingLayoutEnum value from a garage's `attributes.layout`, if it is one. */
  layout: string | null;
  /** Null when the site has never reported. */
  live: ParkingSiteStatus | null;
}

export interface ParkingSnapshot {
  sites: ParkingSite[];
  /** Identifies the set of records with their versions (the parking table's version). */
  tableVersion: string;
  /** Newest record version time; the epoch when there are none. */
  tableVersionTime: Date;
  /** Newest status time; the table's version time when no site has reported. */
  statusTime: Date;
}

const LAYOUTS = new Set(['multiStorey', 'singleLevel', 'underground', 'undergroundAndMultistorey', 'automatedParkingGarage', 'openSpace', 'covered', 'nested', 'field']);

/**
 * Versions already computed, by the content they stand for: a feed is rebuilt every
 * second and its sites rarely change, so most versions are looked up, not hashed.
 */
const versions = new Map<string, string>();

/** A DATEX II version string: 9 decimal digits of a hash, like the integers German feeds use. */
function versionOf(parts: unknown[]): string {
  const key = JSON.stringify(parts);
  let version = versions.get(key);
  if (version === undefined) {
    const hex = createHash('sha256').update(key).digest('hex').slice(0, 8);
    version = String(Number.parseInt(hex, 16) % 1_000_000_000);
    if (versions.size >= 100_000) versions.clear();
    versions.set(key, version);
  }
  return version;
}

function statusOf(vacant: number | null, occupied: number | null): SiteStatus {
  if (vacant === null) return 'unknown';
  return vacant > 0 ? 'spacesAvailable' : (occupied ?? 0) > 0 ? 'full' : 'unknown';
}

function percent(occupied: number, known: number): number | null {
  return known > 0 ? Math.round((occupied / known) * 10_000) / 100 : null;
}

const whole = (n: number | null): number | null => (n === null || !Number.isFinite(n) ? null : Math.max(0, Math.round(n)));

export function garageSite(r: GarageSiteRow): ParkingSite | null {
  if (r.latitude === null || r.longitude === null) return null;
  const total = whole(r.total);
  const capacity = r.capacity ?? total;
  const layout = typeof r.attributes?.layout === 'string' && LAYOUTS.has(r.attributes.layout) ? r.attributes.layout : null;
  const name = r.name?.trim() || r.assetId;
  let live: ParkingSiteStatus | null = null;
  if (r.readingTime) {
    const spaces = total ?? capacity;
    const vacant = r.stale ? null : whole(r.free);
    const occupied = vacant !== null && spaces !== null ? Math.max(0, spaces - vacant) : null;
    live = {
      time: r.readingTime, spacesNow: total, vacant: vacant === null || spaces === null ? vacant : Math.min(vacant, spaces), occupied,
      occupancyPercent: occupied !== null && spaces ? percent(occupied, spaces) : null,
      status: r.stale ? 'unknown' : statusOf(vacant, occupied),
    };
  }
  return {
    id: r.assetId, version: versionOf(['garage', r.assetId, name, r.zone, r.latitude, r.longitude, capacity, layout]), versionTime: r.updatedAt,
    kind: 'garage', name, zone: r.zone, latitude: r.latitude, longitude: r.longitude, capacity, layout, live,
  };
}

export function zoneSite(r: ZoneSiteRow): ParkingSite | null {
  if (r.latitude === null || r.longitude === null) return null;
  // Six decimals of a degree: about 0.1 m, as precise as a bay's registered position.
  const latitude = Math.round(r.latitude * 1e6) / 1e6;
  const longitude = Math.round(r.longitude * 1e6) / 1e6;
  const known = r.occupied + r.free;
  const live: ParkingSiteStatus | null = r.readingTime === null ? null : {
    time: r.readingTime, spacesNow: null, vacant: r.free, occupied: r.occupied,
    occupancyPercent: percent(r.occupied, known), status: known === 0 ? 'unknown' : statusOf(r.free, r.occupied),
  };
  return {
    id: `zone/${r.zone}`, version: versionOf(['zone', r.zone, latitude, longitude, r.bays]), versionTime: r.updatedAt,
    kind: 'zone', name: r.zone, zone: r.zone, latitude, longitude, capacity: r.bays, layout: null, live,
  };
}

export function parkingSnapshot(garages: GarageSiteRow[], zones: ZoneSiteRow[]): ParkingSnapshot {
  const sites = [...garages.map(garageSite), ...zones.map(zoneSite)].filter((s): s is ParkingSite => s !== null);
  const newest = (times: Date[]): Date => new Date(Math.max(0, ...times.map((t) => t.getTime())));
  const tableVersionTime = newest(sites.map((s) => s.versionTime));
  const statusTimes = sites.flatMap((s) => (s.live ? [s.live.time] : []));
  return {
    sites,
    tableVersion: versionOf(sites.map((s) => [s.id, s.version])),
    tableVersionTime,
    statusTime: statusTimes.length > 0 ? newest(statusTimes) : tableVersionTime,
  };
}
