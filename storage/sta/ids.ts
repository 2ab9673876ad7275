/**
 * Stable SensorThings ids (@iot.id). Every entity but an Observation is numbered by
 * the first 52 bits of the MD5 of its natural key, the same formula as the SQL
 * function sta_id() of migration 0080: an id depends only on the registry's own
 * keys (asset id, model id, metric, channel), so it survives restarts, re-imports
 * and a rebuilt database, and it is an exact JavaScript number.
 *
 * An Observation is one reading (or one hourly/daily bucket) of one Datastream; its id
 * is the string "<datastream id>-<epoch microseconds of its phenomenon time>", which
 * the API can turn back into the reading's key without any index of its own.
 */
import { createHash } from 'node:crypto';

export type Level = 'raw' | 'hour' | 'day';
export const LEVELS: readonly Level[] = ['raw', 'hour', 'day'];

/** sta_id(key) of migration 0080. */
export function staId(key: string): number {
  return Number.parseInt(createHash('md5').update(key, 'utf8').digest('hex').slice(0, 13), 16);
}

export const thingId = (assetId: string): number => staId(`Thing/${assetId}`);

/**
 * A parking zone's key where an asset id stands (Thing, Location, Datastream keys):
 * 'zone/<zone name>' (migration 0081). Asset ids cannot contain '/', so it is never an asset's.
 */
export const ZONE_KEY_PREFIX = 'zone/';
export const zoneKey = (zone: string): string => `${ZONE_KEY_PREFIX}${zone}`;
/** ZONE_KEY_PREFIX as an SQL string literal, for SQL built here (migration 0081 spells it out). */
export const ZONE_KEY_PREFIX_SQL = `'${ZONE_KEY_PREFIX.replaceAll("'", "''")}'`;
/** SQL: the key of the zone named by the SQL expression `zone`, as zoneKey. */
export const zoneKeySql = (zone: string): string => `(${ZONE_KEY_PREFIX_SQL} || ${zone})`;
export const isZoneKey = (key: string): boolean => key.startsWith(ZONE_KEY_PREFIX);
/** The metrics a zone's Datastreams have, from its bays. */
export const ZONE_METRICS = ['free_spaces', 'total_spaces'] as const;
/**
 * The Sensor of zone Datastreams: stadtfunk's own count over the bays' sensors. Model ids
 * cannot contain '/' (migration 0001), so this is never a device model's.
 */
export const ZONE_SENSOR_MODEL = 'stadtfunk/zone-totals';
export const sensorId = (modelId: string): number => staId(`Sensor/${modelId}`);
export const observedPropertyId = (metric: string): number => staId(`ObservedProperty/${metric}`);
/** sta_datastream_id(level, asset_id, metric, channel) of migration 0080. */
export const datastreamId = (level: Level, assetId: string, metric: string, channel: string): number =>
  staId(`Datastream/${level}/${assetId}/${metric}/${channel}`);

/** An Observation id: its Datastream and the epoch microseconds of its (start) time. */
export interface ObservationKey {
  datastreamId: number;
  micros: bigint;
}

export function observationId(datastream: number, micros: bigint | number): string {
  return `${datastream}-${micros}`;
}

/** The key of an Observation id this API made; null for anything else. */
export function parseObservationId(id: string): ObservationKey | null {
  const m = /^(\d{1,16})-(-?\d{1,19})$/.exec(id);
  if (!m) return null;
  const datastream = Number(m[1]);
  const micros = BigInt(m[2]!);
  if (!Number.isSafeInteger(datastream) || micros > 253402300800000000n || micros < -62135596800000000n) return null;
  return { datastreamId: datastream, micros };
}
