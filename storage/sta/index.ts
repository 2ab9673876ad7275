/** SensorThings API over the registry and readings: what the API stage may use. */
export type { Expr, ExpandItem, SkipToken, Geometry, Instant, Literal, OrderItem, Position, QueryOptions, BinaryOperator } from './ast.js';
export { emptyOptions } from './ast.js';
export { StaQueryError } from './errors.js';
export { ENTITY_SETS, ENTITY_TYPES, entityBySet, type EntityName, type EntityType, type PropDef, type RelationDef } from './entities.js';
export { FUNCTIONS } from './compile-expression.js';
export { datastreamId, isZoneKey, LEVELS, observationId, observedPropertyId, parseObservationId, sensorId, staId, thingId, ZONE_KEY_PREFIX, ZONE_METRICS, ZONE_SENSOR_MODEL, zoneKey, type Level } from './ids.js';
export { checkExpressions, createStaPool, expressionsOf, keysetOrder, loadPositions, StaReader, withTimeLimit, type Collection, type Page, type ReadSettings, type Resolved, type Row } from './read.js';
export type { StaMetric } from './sql-context.js';
export { microsToIso } from './time.js';
export { catchUpSeries, upsertSeries, type NewDatastream, type SeriesKey } from './catalogue.js';
export { sampleZones, type ZoneSample } from './zone-samples.js';
