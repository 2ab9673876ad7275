/**
 * The SensorThings entity types over stadtfunk's tables (the mapping is written down in
 * docs/sensorthings.md):
 *
 *   Thing              an asset (lamp, bay, garage, counting site, gauge) or a parking zone
 *   Location           one position of an asset, or a zone's centroid (asset_locations)
 *   HistoricalLocation one row of asset_locations: the asset stood there from `since`
 *   Sensor             a device model
 *   ObservedProperty   a catalog metric
 *   Datastream         one series of an asset: metric, channel and level (raw, hour, day)
 *   Observation        a reading, or an hourly/daily bucket of an aggregate Datastream
 *   FeatureOfInterest  the asset's position at the time of a reading
 *
 * Each type is a base relation (a SELECT with canonical columns) and its properties and
 * relations are SQL over those columns. Who may see a row is part of the base relation:
 * anonymous requests see public assets and public metrics only (the open-data rules), and
 * every parking zone (a zone total shows no single bay, as /api/v1/open/parking/zones).
 *
 * Things are the rows of sta_things (migration 0081: one per asset and one per zone, kept
 * by triggers on assets), and every relation that needs a Thing's name, kind, position or
 * visibility joins that table by key (`asset_id` here, 'zone/<name>' for a zone). Zones
 * are ordinary rows: no Thing, Location or Datastream relation is a UNION of assets and
 * zones (Sensors add the zones' one Sensor as a constant row).
 */
import { OCCUPIED_FROM } from '../sql/bay-state.js';
import { ZONE_SENSOR_MODEL } from './ids.js';
import type { SqlContext } from './sql-context.js';

export type EntityName = 'Thing' | 'Location' | 'HistoricalLocation' | 'Datastream' | 'Sensor' | 'ObservedProperty' | 'Observation' | 'FeatureOfInterest';

/** Column accessor of one row source: column name → SQL expression. */
export type Col = (column: string) => string;
export const aliasCols = (alias: string): Col => (c) => `${alias}.${c}`;

export type PropDef =
  | { type: 'id' }
  | { type: 'string' | 'number' | 'json'; sql: (c: Col) => string }
  /**
   * An instant (start = end) or a half-open interval [start, end). For Observations it
   * depends on the row: readings are instants, buckets intervals (the row source answers
   * the pseudo-column '@interval').
   */
  | { type: 'time'; interval: boolean | 'per-row'; start: (c: Col) => string; end: (c: Col) => string; nullable?: boolean }
  | { type: 'point'; lat: (c: Col) => string; lon: (c: Col) => string }
  | { type: 'object'; fields: Record<string, PropDef> };

export interface RelationDef {
  target: EntityName;
  many: boolean;
  /** The join condition between a parent row and a target row. Absent: Observations (special). */
  join?: (parent: Col, target: Col) => string;
}

export interface EntityType {
  name: EntityName;
  plural: string;
  properties: Record<string, PropDef>;
  relations: Record<string, RelationDef>;
  /** SQL of the base relation; null for Observations (built per Datastream, storage/sta/observations.ts). */
  base: ((ctx: SqlContext) => string) | null;
}

const c = (column: string) => (col: Col): string => col(column);

/** Things a request may see (sta_things `t`): public assets and every zone for anonymous requests. */
const visibleThing = (ctx: SqlContext): string => (ctx.all ? 'true' : 't.is_public');

/** The Location id of an asset's current position (migration 0080's key). */
export const currentLocationId = (col: Col): string => `sta_id('Location/' || asset_position_key(${col('asset_id')}, ${col('latitude')}, ${col('longitude')}))`;

/** Bucket width of an aggregate level, as an SQL interval. */
export const LEVEL_INTERVAL = `(case %s when 'hour' then interval '1 hour' when 'day' then interval '1 day' end)`;
const levelInterval = (level: string): string => LEVEL_INTERVAL.replace('%s', level);

const TIME_OF_MS = (ms: string): string => `to_timestamp((${ms})::float8 / 1000)`;

const thing: EntityType = {
  name: 'Thing',
  plural: 'Things',
  properties: {
    id: { type: 'id' },
    name: { type: 'string', sql: c('name') },
    description: { type: 'string', sql: c('description') },
    properties: { type: 'json', sql: c('properties') },
  },
  relations: {
    Datastreams: { target: 'Datastream', many: true, join: (t, d) => `${d('asset_id')} = ${t('asset_id')}` },
    Locations: { target: 'Location', many: true, join: (t, l) => `${l('asset_id')} = ${t('asset_id')} and ${l('id')} = ${currentLocationId(t)}` },
    HistoricalLocations: { target: 'HistoricalLocation', many: true, join: (t, h) => `${h('asset_id')} = ${t('asset_id')}` },
  },
  base: (ctx) => `select t.id, t.key as asset_id, t.name, t.description,
      jsonb_strip_nulls(jsonb_build_object('kind', t.kind, 'zone', t.zone, 'capacity', t.capacity, 'bays', t.bays,
        'counts', case when t.kind = 'parking_zone' then '${ZONE_COUNTS.replace(/'/g, "''")}'::text end,
        'decommissionedAt', t.decommissioned_at)) as properties,
      t.latitude, t.longitude
    from sta_things t where ${visibleThing(ctx)}`,
};

const location: EntityType = {
  name: 'Location',
  plural: 'Locations',
  properties: {
    id: { type: 'id' },
    name: { type: 'string', sql: c('name') },
    description: { type: 'string', sql: c('description') },
    encodingType: { type: 'string', sql: () => `'application/geo+json'::text` },
    location: { type: 'point', lat: c('latitude'), lon: c('longitude') },
  },
  relations: {
    Things: { target: 'Thing', many: true, join: (l, t) => `${t('asset_id')} = ${l('asset_id')} and ${l('id')} = ${currentLocationId(t)}` },
    HistoricalLocations: { target: 'HistoricalLocation', many: true, join: (l, h) => `${h('location_id')} = ${l('id')}` },
  },
  // A Location is a position of one asset (or zone): the newest row at that position describes it.
  base: (ctx) => `select l.location_id as id, l.asset_id, t.name,
      case when t.kind = 'parking_zone' then 'Centroid of the parking bays of zone ' || t.zone else 'Position of ' || t.label end as description,
      l.latitude, l.longitude
    from (select distinct on (location_id) location_id, asset_id, latitude, longitude from asset_locations order by location_id, since desc) l
    join sta_things t on t.key = l.asset_id where ${visibleThing(ctx)}`,
};

const historicalLocation: EntityType = {
  name: 'HistoricalLocation',
  plural: 'HistoricalLocations',
  properties: {
    id: { type: 'id' },
    time: { type: 'time', interval: false, start: c('time'), end: c('time') },
  },
  relations: {
    Thing: { target: 'Thing', many: false, join: (h, t) => `${t('asset_id')} = ${h('asset_id')}` },
    Locations: { target: 'Location', many: true, join: (h, l) => `${l('id')} = ${h('location_id')}` },
  },
  base: (ctx) => `select h.historical_location_id as id, h.asset_id, h.location_id, h.since as time
    from asset_locations h join sta_things t on t.key = h.asset_id where ${visibleThing(ctx)}`,
};

/** Datastreams a request may see: public Things (`t`) and public metrics (`mt`) for anonymous requests. */
const visibleDatastream = (ctx: SqlContext): string => (ctx.all ? 'true' : 't.is_public and mt.public');

/** The zones' Sensor: not a device model, stadtfunk's count over the bays' sensors (api/sta/zone-sampler.ts). */
const ZONE_SENSOR_DESCRIPTION = 'Free and total spaces of a parking zone, counted by stadtfunk from the latest occupied reading of each of '
  + `the zone's parking bays in service (free below ${OCCUPIED_FROM}, occupied from ${OCCUPIED_FROM}, unknown when older than PARKING_STALE_AFTER_S), `
  + "sampled at a fixed interval (STA_ZONE_SAMPLE_INTERVAL_MS); the zone's garages are not counted (they are Things of their own)";

/**
 * properties.counts of a zone Thing: what its free_spaces and total_spaces count. Unlike
 * /api/v1/open/parking/zones, which adds the zone's garages (docs/sensorthings.md).
 */
export const ZONE_COUNTS = "parking bays only; the zone's garages are Things of their own";

const sensor: EntityType = {
  name: 'Sensor',
  plural: 'Sensors',
  properties: {
    id: { type: 'id' },
    name: { type: 'string', sql: c('name') },
    description: { type: 'string', sql: c('description') },
    encodingType: { type: 'string', sql: () => `'text/plain'::text` },
    metadata: { type: 'string', sql: c('metadata') },
    properties: { type: 'json', sql: c('properties') },
  },
  relations: {
    Datastreams: { target: 'Datastream', many: true, join: (s, d) => `${d('model_id')} = ${s('model_id')}` },
  },
  // The vendor codec's source is never shown; anonymous requests see models with a visible Datastream.
  base: (ctx) => `select sta_id('Sensor/' || m.id) as id, m.id as model_id, m.name,
      'Device model ' || m.name || case m.decoder_kind when 'builtin' then ' (built-in decoder ' || m.builtin_name || ')' else ' (vendor codec)' end as description,
      case m.decoder_kind when 'builtin' then 'stadtfunk built-in decoder ' || m.builtin_name else 'vendor payload codec, run in a sandbox' end as metadata,
      jsonb_strip_nulls(jsonb_build_object('modelId', m.id, 'decoder', m.decoder_kind, 'builtinDecoder', m.builtin_name,
        'expectedIntervalS', m.expected_interval_s)) as properties
    from device_models m
    where ${ctx.all ? 'true' : `exists (select 1 from sta_datastreams d join devices v on v.dev_eui = d.dev_eui join sta_things t on t.key = d.asset_id
      join ${ctx.metricsRelation()} mt on mt.id = d.metric where v.model_id = m.id and ${visibleDatastream(ctx)})`}
    union all
    select sta_id('Sensor/${ZONE_SENSOR_MODEL}'), '${ZONE_SENSOR_MODEL}'::text, 'stadtfunk zone totals'::text, '${ZONE_SENSOR_DESCRIPTION.replace(/'/g, "''")}'::text,
      'stadtfunk zone sampler: counts over the bays of the zone, no device of its own'::text,
      jsonb_build_object('modelId', '${ZONE_SENSOR_MODEL}'::text, 'decoder', 'stadtfunk'::text)
    where exists (select 1 from sta_things t where t.kind = 'parking_zone' and exists (select 1 from sta_datastreams d where d.asset_id = t.key))`,
};

const observedProperty: EntityType = {
  name: 'ObservedProperty',
  plural: 'ObservedProperties',
  properties: {
    id: { type: 'id' },
    name: { type: 'string', sql: c('name') },
    definition: { type: 'string', sql: c('definition') },
    description: { type: 'string', sql: c('description') },
    properties: { type: 'json', sql: c('properties') },
  },
  relations: {
    Datastreams: { target: 'Datastream', many: true, join: (o, d) => `${d('metric')} = ${o('metric')}` },
  },
  // Only quantities something measures: a catalog metric without a visible series is left out.
  base: (ctx) => `select mt.op_id as id, mt.id as metric, mt.name, mt.definition, mt.description,
      jsonb_build_object('metric', mt.id, 'category', mt.category, 'unit', mt.unit_symbol) as properties
    from ${ctx.metricsRelation()} mt
    where ${ctx.all ? 'true' : 'mt.public'}
      and exists (select 1 from sta_datastreams d join sta_things t on t.key = d.asset_id where d.metric = mt.id and ${visibleThing(ctx)})`,
};

/**
 * The phenomenonTime of a Datastream: from its oldest reading (first_time) to the newest
 * one the latest state of its device knows; for aggregates, whole buckets.
 */
function datastreamTimes(): string {
  const key = `case when d.channel = '' then d.metric else d.metric || '@' || d.channel end`;
  // A zone's series have no device: their newest Observation is the zone's newest sample.
  const last = `coalesce(${TIME_OF_MS(`ls.metrics -> (${key}) ->> 0`)}, t.observed_until, d.first_time)`;
  const epoch = `timestamptz '2000-01-01 00:00:00+00'`;
  return `case d.level when 'raw' then d.first_time else date_bin(${levelInterval('d.level')}, d.first_time, ${epoch}) end as phenomenon_start,
      case d.level when 'raw' then ${last} else date_bin(${levelInterval('d.level')}, ${last}, ${epoch}) + ${levelInterval('d.level')} end as phenomenon_end`;
}

const datastream: EntityType = {
  name: 'Datastream',
  plural: 'Datastreams',
  properties: {
    id: { type: 'id' },
    name: { type: 'string', sql: c('name') },
    description: { type: 'string', sql: c('description') },
    unitOfMeasurement: {
      type: 'object',
      fields: {
        name: { type: 'string', sql: c('unit_name') },
        symbol: { type: 'string', sql: c('unit_symbol') },
        definition: { type: 'string', sql: c('unit_definition') },
      },
    },
    observationType: { type: 'string', sql: () => `'http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement'::text` },
    observedArea: { type: 'point', lat: c('latitude'), lon: c('longitude') },
    phenomenonTime: { type: 'time', interval: true, start: c('phenomenon_start'), end: c('phenomenon_end') },
    // Raw readings are results at the time they were taken; aggregates have no result time.
    resultTime: { type: 'time', interval: true, nullable: true, start: (col) => `case when ${col('level')} = 'raw' then ${col('phenomenon_start')} end`, end: (col) => `case when ${col('level')} = 'raw' then ${col('phenomenon_end')} end` },
    properties: { type: 'json', sql: c('properties') },
  },
  relations: {
    Thing: { target: 'Thing', many: false, join: (d, t) => `${t('asset_id')} = ${d('asset_id')}` },
    Sensor: { target: 'Sensor', many: false, join: (d, s) => `${s('model_id')} = ${d('model_id')}` },
    ObservedProperty: { target: 'ObservedProperty', many: false, join: (d, o) => `${o('metric')} = ${d('metric')}` },
    Observations: { target: 'Observation', many: true },
  },
  base: (ctx) => `select d.id, d.asset_id, d.metric, d.channel, d.level, d.dev_eui,
      case when t.kind = 'parking_zone' then '${ZONE_SENSOR_MODEL}' else v.model_id end as model_id,
      d.metric || case when d.channel = '' then '' else ' (' || d.channel || ')' end || ' at ' || t.name
        || case d.level when 'hour' then ', hourly mean' when 'day' then ', daily mean' else '' end as name,
      mt.description || ' at ' || t.label || case when d.channel = '' then '' else ', channel ' || d.channel end
        || case d.level when 'hour' then ': hourly mean, with min, max and count' when 'day' then ': daily mean, with min, max and count' else ': every reading' end as description,
      mt.unit_name, mt.unit_symbol, mt.unit_definition, ${datastreamTimes()},
      jsonb_strip_nulls(jsonb_build_object('metric', d.metric, 'channel', nullif(d.channel, ''), 'level', d.level,
        'aggregation', case when d.level = 'raw' then null else 'mean' end,
        'resultInterval', case d.level when 'hour' then 'PT1H' when 'day' then 'P1D' end)) as properties,
      t.latitude, t.longitude
    from sta_datastreams d join sta_things t on t.key = d.asset_id join ${ctx.metricsRelation()} mt on mt.id = d.metric
    left join devices v on v.dev_eui = d.dev_eui
    left join latest_state ls on ls.dev_eui = d.dev_eui
    where ${visibleDatastream(ctx)}`,
};

/**
 * An Observation row (storage/sta/observations.ts builds them per Datastream): columns
 * datastream_id, level, asset_id, t0 and t1 (the phenomenon time; t0 = t1 for a reading),
 * value, quality, min, max, count (aggregates) and, where asked for, feature_id.
 */
const observation: EntityType = {
  name: 'Observation',
  plural: 'Observations',
  properties: {
    id: { type: 'id' },
    phenomenonTime: { type: 'time', interval: 'per-row', start: c('t0'), end: c('t1') },
    resultTime: { type: 'time', interval: false, nullable: true, start: c('result_time'), end: c('result_time') },
    result: { type: 'number', sql: c('value') },
    resultQuality: { type: 'json', sql: c('result_quality') },
    validTime: { type: 'time', interval: true, nullable: true, start: () => 'null::timestamptz', end: () => 'null::timestamptz' },
    parameters: { type: 'json', sql: c('parameters') },
  },
  relations: {
    Datastream: { target: 'Datastream', many: false, join: (o, d) => `${d('id')} = ${o('datastream_id')}` },
    FeatureOfInterest: { target: 'FeatureOfInterest', many: false, join: (o, f) => `${f('id')} = ${o('feature_id')}` },
  },
  base: null,
};

const featureOfInterest: EntityType = {
  name: 'FeatureOfInterest',
  plural: 'FeaturesOfInterest',
  properties: {
    id: { type: 'id' },
    name: { type: 'string', sql: c('name') },
    description: { type: 'string', sql: c('description') },
    encodingType: { type: 'string', sql: () => `'application/geo+json'::text` },
    feature: { type: 'point', lat: c('latitude'), lon: c('longitude') },
    properties: { type: 'json', sql: c('properties') },
  },
  relations: {
    Observations: { target: 'Observation', many: true },
  },
  base: (ctx) => `select f.feature_id as id, f.asset_id, t.name,
      'Where ' || t.label || ' measured' as description, f.latitude, f.longitude,
      jsonb_build_object('assetKind', t.kind) as properties
    from (select distinct on (feature_id) feature_id, asset_id, latitude, longitude from asset_locations order by feature_id, since desc) f
    join sta_things t on t.key = f.asset_id where ${visibleThing(ctx)}`,
};

export const ENTITY_TYPES: Readonly<Record<EntityName, EntityType>> = {
  Thing: thing,
  Location: location,
  HistoricalLocation: historicalLocation,
  Datastream: datastream,
  Sensor: sensor,
  ObservedProperty: observedProperty,
  Observation: observation,
  FeatureOfInterest: featureOfInterest,
};

/** Entity sets in the order the service root lists them. */
export const ENTITY_SETS: readonly EntityType[] = [datastream, featureOfInterest, historicalLocation, location, observation, observedProperty, sensor, thing];

export function entityBySet(plural: string): EntityType | undefined {
  return ENTITY_SETS.find((e) => e.plural === plural);
}
