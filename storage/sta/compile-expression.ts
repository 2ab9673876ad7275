/**
 * $filter and $orderby expressions → SQL, for the entity types of entities.ts.
 *
 * The parser's AST is compiled bottom-up into typed SQL values; every literal becomes a
 * parameter. The semantics follow OGC 18-088 (SensorThings 1.1) §9.3.3.5 and, where the
 * standard leaves room, FROST-Server (the reference its test suites were written against):
 * - Times are instants or half-open intervals [start, end). Comparing intervals follows
 *   FROST-Server.Tests c03filtering/DateTimeTests: `a lt b` when a ends before b starts
 *   (an instant a strictly before, an interval a at or before b's start), `a le b` when a
 *   starts and ends no later than b, `eq` only between equal instants or equal intervals.
 * - A comparison with null is false (eq null / ne null test for null), so `not` is plain
 *   two-valued negation.
 * - Navigation in a path (`Datastream/Thing/name`, `Datastreams/ObservedProperty/name`)
 *   joins the related entities inside an EXISTS around the comparison that uses it: a
 *   to-many path is true when any related entity matches.
 * - Geospatial functions take points (every position here is an asset's point) against
 *   any WKT geometry; the relations are computed by geometry.ts over the positions the
 *   request could meet (loaded beforehand, bounding box first), and the SQL asks whether
 *   a row's point is among those that passed.
 */
import type { Expr, Geometry, Instant, Literal } from './ast.js';
import { aliasCols, ENTITY_TYPES, type Col, type EntityType, type PropDef } from './entities.js';
import { queryError } from './errors.js';
import * as geometry from './geometry.js';
import { featureAt, observationsOf } from './observations.js';
import type { SqlContext } from './sql-context.js';
import { microsToIso } from './time.js';

export type Value =
  | { t: 'number'; sql: string; nullable: boolean; isId?: boolean; constant?: number }
  | { t: 'string'; sql: string; nullable: boolean; constant?: string }
  | { t: 'boolean'; sql: string; nullable: boolean }
  | { t: 'json'; sql: string }
  | { t: 'time'; interval: boolean; start: string; end: string; nullable: boolean; literal?: { start: Instant; end: Instant } }
  | { t: 'date' | 'timeofday' | 'duration'; sql: string; nullable: boolean }
  | { t: 'point'; lat: string; lon: string; nullable: boolean }
  | { t: 'geometry'; value: Geometry }
  | { t: 'obsid'; datastream: string; t0: string }
  | { t: 'null' };

/** Distinct asset positions [longitude, latitude] the geospatial functions are evaluated on. */
export type Positions = readonly [number, number][];

export interface Scope {
  ctx: SqlContext;
  entity: EntityType;
  col: Col;
  /** Positions for geospatial functions (see collectGeometries); null when the filter has none. */
  positions: Positions | null;
  /** Joins the current predicate needs (navigation): FROM items and their conditions. */
  joins?: { from: string; where: string }[];
  /** Navigation already joined within the current predicate, by path. */
  joined?: Map<string, Scope>;
}

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const ARITHMETIC = new Set(['add', 'sub', 'mul', 'div', 'mod']);

function instantIso(i: Instant): string {
  return microsToIso(i.micros);
}

// ---------------------------------------------------------------------------- booleans

/** A boolean SQL condition for `expr` over the scope's row. */
export function compileBoolean(expr: Expr, scope: Scope): string {
  if (expr.kind === 'binary' && (expr.op === 'and' || expr.op === 'or')) {
    return `(${compileBoolean(expr.left, scope)} ${expr.op} ${compileBoolean(expr.right, scope)})`;
  }
  if (expr.kind === 'not') return `(not ${compileBoolean(expr.operand, scope)})`;
  // A leaf predicate: the joins its operands need wrap it in EXISTS.
  const joins: { from: string; where: string }[] = [];
  const leaf: Scope = { ...scope, joins, joined: new Map() };
  const value = compileValue(expr, leaf);
  let sql: string;
  if (value.t === 'boolean') sql = value.nullable ? `coalesce(${value.sql}, false)` : value.sql;
  else if (value.t === 'json') sql = `coalesce(${value.sql} = 'true'::jsonb, false)`;
  else throw queryError(`a condition is needed here, not a ${describe(value)}`, expr.pos);
  if (joins.length === 0) return sql;
  const from = joins.map((j) => j.from).join(', ');
  const where = joins.map((j) => j.where).join(' and ');
  // `X/p eq null` also holds where there is no X at all, as an outer join would have it
  // (FROST-Server.Tests c03filtering/FilterTests.testEqualsNull: Datastreams/id eq null).
  const nullTest = expr.kind === 'binary' && expr.op === 'eq' && [expr.left, expr.right].some((e) => e.kind === 'literal' && e.type === 'null');
  if (nullTest) return `(exists (select 1 from ${from} where ${where} and ${sql}) or not exists (select 1 from ${from} where ${where}))`;
  return `exists (select 1 from ${from} where ${where} and ${sql})`;
}

function describe(v: Value): string {
  switch (v.t) {
    case 'time': return v.interval ? 'time interval' : 'time';
    case 'obsid': return 'id';
    case 'point': case 'geometry': return 'geometry';
    default: return v.t;
  }
}

// ---------------------------------------------------------------------------- values

export function compileValue(expr: Expr, scope: Scope): Value {
  switch (expr.kind) {
    case 'literal': return literal(expr, scope.ctx);
    case 'member': return member(expr.path, expr.pos, scope);
    case 'not': return { t: 'boolean', sql: `(not ${compileBoolean(expr.operand, scope)})`, nullable: false };
    case 'binary':
      if (expr.op === 'and' || expr.op === 'or') {
        return { t: 'boolean', sql: `(${compileBoolean(expr.left, scope)} ${expr.op} ${compileBoolean(expr.right, scope)})`, nullable: false };
      }
      if (COMPARISONS.has(expr.op)) return { t: 'boolean', ...comparison(expr.op, compileValue(expr.left, scope), compileValue(expr.right, scope), expr.pos, scope.ctx) };
      if (ARITHMETIC.has(expr.op)) return arithmetic(expr.op, compileValue(expr.left, scope), compileValue(expr.right, scope), expr.pos);
      throw queryError(`unknown operator ${expr.op}`, expr.pos, expr.op);
    case 'call': return call(expr, scope);
  }
}

function literal(l: Literal, ctx: SqlContext): Value {
  switch (l.type) {
    case 'string': return { t: 'string', sql: ctx.param(l.value, 'text'), nullable: false, constant: l.value };
    case 'number': return { t: 'number', sql: ctx.param(l.value, 'float8'), nullable: false, constant: l.value };
    case 'boolean': return { t: 'boolean', sql: ctx.param(l.value, 'boolean'), nullable: false };
    case 'null': return { t: 'null' };
    case 'datetime': {
      const sql = ctx.param(instantIso(l.value), 'timestamptz');
      return { t: 'time', interval: false, start: sql, end: sql, nullable: false, literal: { start: l.value, end: l.value } };
    }
    case 'interval':
      return { t: 'time', interval: true, start: ctx.param(instantIso(l.start), 'timestamptz'), end: ctx.param(instantIso(l.end), 'timestamptz'), nullable: false, literal: { start: l.start, end: l.end } };
    case 'date': return { t: 'date', sql: ctx.param(l.value, 'date'), nullable: false };
    case 'timeofday': return { t: 'timeofday', sql: ctx.param(l.value, 'time'), nullable: false };
    case 'duration': return { t: 'duration', sql: ctx.param(l.value, 'interval'), nullable: false };
    case 'geometry': return { t: 'geometry', value: l.value };
  }
}

/** A property path from the scope's entity: properties, object fields, JSON paths, navigation. */
function member(path: string[], pos: number, scope: Scope): Value {
  const [head, ...rest] = path;
  if (head === undefined) throw queryError('empty property path', pos);
  const entity = scope.entity;
  if (head === 'id' || head === '@iot.id') {
    if (rest.length > 0) throw queryError(`${head} has no properties`, pos, rest[0]);
    if (entity.name === 'Observation') return { t: 'obsid', datastream: scope.col('datastream_id'), t0: scope.col('t0') };
    return { t: 'number', sql: scope.col('id'), nullable: false, isId: true };
  }
  const prop = entity.properties[head];
  if (prop) return property(prop, head, rest, pos, scope);
  const relation = entity.relations[head];
  if (!relation) {
    throw queryError(`${entity.name} has no property or navigation ${head} (it has ${[...Object.keys(entity.properties), ...Object.keys(entity.relations)].join(', ')})`, pos, head);
  }
  if (rest.length === 0) throw queryError(`${head} is an entity, not a value: name one of its properties (${head}/…)`, pos, head);
  // The current Location of a Thing stands where the asset stands: no join needed.
  if (entity.name === 'Thing' && head === 'Locations' && rest.length === 1 && rest[0] === 'location') {
    return { t: 'point', lat: scope.col('latitude'), lon: scope.col('longitude'), nullable: true };
  }
  return member(rest, pos, navigate(head, pos, scope));
}

function property(prop: PropDef, name: string, rest: string[], pos: number, scope: Scope): Value {
  const col = scope.col;
  switch (prop.type) {
    case 'id': return { t: 'number', sql: col('id'), nullable: false, isId: true };
    case 'object': {
      const [field, ...more] = rest;
      if (field === undefined) throw queryError(`${name} is an object: name one of its fields (${Object.keys(prop.fields).join(', ')})`, pos, name);
      const sub = prop.fields[field];
      if (!sub) throw queryError(`${name} has no field ${field} (it has ${Object.keys(prop.fields).join(', ')})`, pos, field);
      return property(sub, field, more, pos, scope);
    }
    case 'json': {
      if (rest.length === 0) return { t: 'json', sql: prop.sql(col) };
      const keys = rest.flatMap((segment) => splitIndexes(segment, pos));
      return { t: 'json', sql: `(${prop.sql(col)} #> ${scope.ctx.param(keys, 'text[]')})` };
    }
    default:
      if (rest.length > 0) throw queryError(`${name} has no property ${rest[0]}`, pos, rest[0]);
      if (prop.type === 'string') return { t: 'string', sql: prop.sql(col), nullable: true };
      if (prop.type === 'number') return { t: 'number', sql: prop.sql(col), nullable: scope.entity.name !== 'Observation' };
      if (prop.type === 'time') {
        const interval = prop.interval === 'per-row' ? col('@interval') === 'true' : prop.interval;
        return { t: 'time', interval, start: prop.start(col), end: prop.end(col), nullable: prop.nullable ?? false };
      }
      if (prop.type === 'point') return { t: 'point', lat: prop.lat(col), lon: prop.lon(col), nullable: true };
      return { t: 'json', sql: prop.sql(col) };
  }
}

/** `tags[1]` → ["tags", "1"] (FROST's array index in JSON paths). */
function splitIndexes(segment: string, pos: number): string[] {
  const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(segment);
  if (!m) throw queryError(`${segment} is not a property name or name[index]`, pos, segment);
  const indexes = [...m[2]!.matchAll(/\[(\d+)\]/g)].map((x) => x[1]!);
  return [...(m[1] ? [m[1]] : []), ...indexes];
}

/** Joins the related entity `name` of the scope's row and returns its scope. */
function navigate(name: string, pos: number, scope: Scope): Scope {
  const key = name;
  const cached = scope.joined?.get(key);
  if (cached) return cached;
  if (!scope.joins) throw queryError(`navigation (${name}/…) is not possible here`, pos, name);
  const relation = scope.entity.relations[name]!;
  const target = ENTITY_TYPES[relation.target];
  const ctx = scope.ctx;
  const alias = ctx.alias('n');
  const next: Scope = { ...scope, entity: target, col: aliasCols(alias), joined: new Map() };
  if (target.name === 'Observation') {
    const branch = { filter: null, order: null, limit: null, withFeature: scope.entity.name === 'FeatureOfInterest' };
    if (scope.entity.name === 'Datastream') {
      scope.joins.push({ from: `lateral (${observationsOf(ctx, scope.col, branch)}) ${alias}`, where: 'true' });
    } else {
      // A FeatureOfInterest's Observations: those of its asset's Datastreams measured where it is.
      const d = ctx.alias('nd');
      scope.joins.push({ from: `(${ENTITY_TYPES.Datastream.base!(ctx)}) ${d}`, where: `${d}.asset_id = ${scope.col('asset_id')}` });
      scope.joins.push({ from: `lateral (${observationsOf(ctx, aliasCols(d), branch)}) ${alias}`, where: `${alias}.feature_id = ${scope.col('id')}` });
    }
  } else {
    const join = scope.entity.name === 'Observation' && name === 'FeatureOfInterest'
      ? `${alias}.id = ${featureAt(scope.col('asset_id'), scope.col('t0'))}`
      : relation.join!(scope.col, aliasCols(alias));
    scope.joins.push({ from: `(${target.base!(ctx)}) ${alias}`, where: join });
  }
  // The joins of the related entity's own navigation go into the same EXISTS.
  next.joins = scope.joins;
  scope.joined?.set(key, next);
  return next;
}

// ---------------------------------------------------------------------------- coercions

function asNumber(v: Value, pos: number): { sql: string; nullable: boolean } {
  if (v.t === 'number') return v;
  if (v.t === 'json') return { sql: `(case when jsonb_typeof(${v.sql}) = 'number' then (${v.sql} #>> '{}')::float8 end)`, nullable: true };
  if (v.t === 'string' && v.constant !== undefined && v.constant.trim() !== '' && Number.isFinite(Number(v.constant))) return { sql: `${v.sql}::float8`, nullable: false };
  throw queryError(`a number is needed here, not a ${describe(v)}`, pos);
}

function asString(v: Value, pos: number): { sql: string; nullable: boolean } {
  if (v.t === 'string') return v;
  if (v.t === 'json') return { sql: `(case when jsonb_typeof(${v.sql}) = 'string' then ${v.sql} #>> '{}' end)`, nullable: true };
  if (v.t === 'number') return { sql: `(${v.sql})::text`, nullable: v.nullable };
  throw queryError(`a string is needed here, not a ${describe(v)}`, pos);
}

function asTime(v: Value, pos: number, ctx: SqlContext): Extract<Value, { t: 'time' }> {
  if (v.t === 'time') return v;
  if (v.t === 'string' && v.constant !== undefined) {
    const t = Date.parse(v.constant);
    if (/^\d{4}-\d{2}-\d{2}T/.test(v.constant) && Number.isFinite(t)) {
      const sql = ctx.param(v.constant, 'timestamptz');
      return { t: 'time', interval: false, start: sql, end: sql, nullable: false };
    }
  }
  throw queryError(`a time is needed here, not a ${describe(v)}`, pos);
}

// ---------------------------------------------------------------------------- comparisons

type Condition = { sql: string; nullable: boolean };

function comparison(op: string, left: Value, right: Value, pos: number, ctx: SqlContext): Condition {
  if (left.t === 'null' || right.t === 'null') {
    const other = left.t === 'null' ? right : left;
    if (other.t === 'null') return { sql: op === 'eq' ? 'true' : 'false', nullable: false };
    if (op !== 'eq' && op !== 'ne') return { sql: 'false', nullable: false };
    const isNull = nullTest(other);
    return { sql: op === 'eq' ? isNull : `not ${isNull}`, nullable: false };
  }
  if (left.t === 'obsid' || right.t === 'obsid') return observationIdComparison(op, left, right, pos, ctx);
  if (left.t === 'time' || right.t === 'time') return timeComparison(op, asTime(left, pos, ctx), asTime(right, pos, ctx));
  if (left.t === 'point' || right.t === 'point' || left.t === 'geometry' || right.t === 'geometry') {
    throw queryError('geometries cannot be compared with eq, lt, …: use st_equals, st_within, geo.distance …', pos);
  }
  const sqlOp = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' }[op]!;
  const wrap = (sql: string, nullable: boolean): Condition => ({ sql: `(${sql})`, nullable });
  // An id compared with a whole number: as bigint, so the id indexes apply.
  if ((left.t === 'number' && left.isId) || (right.t === 'number' && right.isId)) {
    const id = (left.t === 'number' && left.isId ? left : right) as Extract<Value, { t: 'number' }>;
    const other = id === left ? right : left;
    const constant = other.t === 'number' ? other.constant : other.t === 'string' ? Number(other.constant) : undefined;
    if (constant !== undefined && other.t !== 'json') {
      if (!Number.isSafeInteger(constant)) return { sql: op === 'ne' ? 'true' : 'false', nullable: false };
      const p = ctx.param(constant, 'int8');
      return wrap(id === left ? `${id.sql} ${sqlOp} ${p}` : `${p} ${sqlOp} ${id.sql}`, false);
    }
  }
  if (left.t === 'json' && right.t === 'json') return wrap(`${left.sql} ${sqlOp} ${right.sql}`, true);
  if (left.t === 'boolean' || right.t === 'boolean') {
    const l = left.t === 'json' ? `(${left.sql} = 'true'::jsonb)` : left.t === 'boolean' ? left.sql : null;
    const r = right.t === 'json' ? `(${right.sql} = 'true'::jsonb)` : right.t === 'boolean' ? right.sql : null;
    if (l === null || r === null || (op !== 'eq' && op !== 'ne')) throw queryError('booleans compare only with eq and ne, to booleans', pos, op);
    return wrap(`${l} ${op === 'eq' ? 'is not distinct from' : 'is distinct from'} ${r}`, false);
  }
  for (const t of ['date', 'timeofday', 'duration'] as const) {
    if (left.t === t || right.t === t) {
      if (left.t !== right.t) throw queryError(`a ${t} compares only with a ${t}`, pos, op);
      const l = left as { sql: string; nullable: boolean };
      const r = right as { sql: string; nullable: boolean };
      return wrap(`${l.sql} ${sqlOp} ${r.sql}`, l.nullable || r.nullable);
    }
  }
  // Numbers with numbers (and JSON values and numeric strings as numbers); otherwise as text.
  const numeric = (v: Value): boolean => v.t === 'number' || (v.t === 'string' && v.constant !== undefined && v.constant.trim() !== '' && Number.isFinite(Number(v.constant)));
  if ((left.t === 'number' && (numeric(right) || right.t === 'json')) || (right.t === 'number' && (numeric(left) || left.t === 'json')) || (left.t === 'json' && right.t === 'json')) {
    const l = asNumber(left, pos);
    const r = asNumber(right, pos);
    return wrap(`${l.sql} ${sqlOp} ${r.sql}`, l.nullable || r.nullable);
  }
  const l = asString(left, pos);
  const r = asString(right, pos);
  return wrap(`${l.sql} ${sqlOp} ${r.sql}`, l.nullable || r.nullable);
}

function nullTest(v: Value): string {
  switch (v.t) {
    case 'time': return `(${v.start} is null)`;
    case 'point': return `(${v.lat} is null)`;
    case 'json': return `(${v.sql} is null or ${v.sql} = 'null'::jsonb)`;
    case 'geometry': case 'obsid': case 'null': return 'false';
    default: return `(${v.sql} is null)`;
  }
}

/** Instants and intervals, as in FROST-Server.Tests c03filtering/DateTimeTests (see the module note). */
function timeComparison(op: string, a: Extract<Value, { t: 'time' }>, b: Extract<Value, { t: 'time' }>): Condition {
  const nullable = a.nullable || b.nullable;
  const before = (x: typeof a, y: typeof a): string => (x.interval ? `${x.end} <= ${y.start}` : `${x.start} < ${y.start}`);
  let sql: string;
  switch (op) {
    case 'lt': sql = before(a, b); break;
    case 'gt': sql = before(b, a); break;
    case 'le': sql = a.interval || b.interval ? `${a.start} <= ${b.start} and ${a.end} <= ${b.end}` : `${a.start} <= ${b.start}`; break;
    case 'ge': sql = a.interval || b.interval ? `${a.start} >= ${b.start} and ${a.end} >= ${b.end}` : `${a.start} >= ${b.start}`; break;
    case 'eq': sql = a.interval !== b.interval ? 'false' : a.interval ? `${a.start} = ${b.start} and ${a.end} = ${b.end}` : `${a.start} = ${b.start}`; break;
    default: sql = a.interval !== b.interval ? 'true' : a.interval ? `not (${a.start} = ${b.start} and ${a.end} = ${b.end})` : `${a.start} <> ${b.start}`;
  }
  return { sql: `(${sql})`, nullable };
}

/** Observation ids are "<datastream>-<epoch µs>": compared as that pair. */
function observationIdComparison(op: string, left: Value, right: Value, pos: number, ctx: SqlContext): Condition {
  const id = (left.t === 'obsid' ? left : right) as Extract<Value, { t: 'obsid' }>;
  const other = id === left ? right : left;
  if (other.t === 'obsid') {
    const sqlOp = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' }[op]!;
    return { sql: `((${id.datastream}, ${id.t0}) ${sqlOp} (${other.datastream}, ${other.t0}))`, nullable: false };
  }
  const text = other.t === 'string' ? other.constant : undefined;
  const m = text === undefined ? null : /^(\d{1,16})-(-?\d{1,19})$/.exec(text);
  if (!m) {
    if (op === 'eq' || op === 'ne') return { sql: op === 'eq' ? 'false' : 'true', nullable: false };
    throw queryError('an Observation id compares with an id string such as \'123-1700000000000000\'', pos);
  }
  const ds = ctx.param(Number(m[1]), 'int8');
  const t0 = ctx.param(microsToIso(BigInt(m[2]!)), 'timestamptz');
  const swapped = id !== left;
  const sqlOp = { eq: '=', ne: '<>', gt: swapped ? '<' : '>', ge: swapped ? '<=' : '>=', lt: swapped ? '>' : '<', le: swapped ? '>=' : '<=' }[op]!;
  return { sql: `((${id.datastream}, ${id.t0}) ${sqlOp} (${ds}, ${t0}))`, nullable: false };
}

// ---------------------------------------------------------------------------- arithmetic

function arithmetic(op: string, left: Value, right: Value, pos: number): Value {
  if (left.t === 'time' || right.t === 'time') {
    if (left.t === 'time' && !left.interval && right.t === 'duration' && (op === 'add' || op === 'sub')) {
      const sql = `(${left.start} ${op === 'add' ? '+' : '-'} ${right.sql})`;
      return { t: 'time', interval: false, start: sql, end: sql, nullable: left.nullable || right.nullable };
    }
    if (left.t === 'duration' && right.t === 'time' && !right.interval && op === 'add') {
      const sql = `(${right.start} + ${left.sql})`;
      return { t: 'time', interval: false, start: sql, end: sql, nullable: left.nullable || right.nullable };
    }
    if (left.t === 'time' && right.t === 'time' && !left.interval && !right.interval && op === 'sub') {
      return { t: 'duration', sql: `(${left.start} - ${right.start})`, nullable: left.nullable || right.nullable };
    }
    throw queryError(`${op} with times: time add/sub duration'…', or time sub time`, pos, op);
  }
  if (left.t === 'duration' && right.t === 'duration' && (op === 'add' || op === 'sub')) {
    return { t: 'duration', sql: `(${left.sql} ${op === 'add' ? '+' : '-'} ${right.sql})`, nullable: left.nullable || right.nullable };
  }
  const l = asNumber(left, pos);
  const r = asNumber(right, pos);
  const nullable = l.nullable || r.nullable;
  switch (op) {
    case 'add': return { t: 'number', sql: `(${l.sql} + ${r.sql})`, nullable };
    case 'sub': return { t: 'number', sql: `(${l.sql} - ${r.sql})`, nullable };
    case 'mul': return { t: 'number', sql: `(${l.sql} * ${r.sql})`, nullable };
    // Division by zero gives null (no match), not an error.
    case 'div': return { t: 'number', sql: `((${l.sql})::float8 / nullif((${r.sql})::float8, 0))`, nullable: true };
    default: return { t: 'number', sql: `(mod((${l.sql})::numeric, nullif((${r.sql})::numeric, 0))::float8)`, nullable: true };
  }
}

// ---------------------------------------------------------------------------- functions

const ARITY: Record<string, [number, number]> = {
  substringof: [2, 2], endswith: [2, 2], startswith: [2, 2], length: [1, 1], indexof: [2, 2], substring: [2, 3],
  tolower: [1, 1], toupper: [1, 1], trim: [1, 1], concat: [2, 2],
  year: [1, 1], month: [1, 1], day: [1, 1], hour: [1, 1], minute: [1, 1], second: [1, 1], fractionalseconds: [1, 1],
  date: [1, 1], time: [1, 1], totaloffsetminutes: [1, 1], now: [0, 0], mindatetime: [0, 0], maxdatetime: [0, 0],
  before: [2, 2], after: [2, 2], meets: [2, 2], during: [2, 2], overlaps: [2, 2], starts: [2, 2], finishes: [2, 2],
  round: [1, 1], floor: [1, 1], ceiling: [1, 1],
  'geo.distance': [2, 2], 'geo.length': [1, 1], 'geo.intersects': [2, 2],
  st_equals: [2, 2], st_disjoint: [2, 2], st_touches: [2, 2], st_within: [2, 2], st_overlaps: [2, 2], st_crosses: [2, 2],
  st_intersects: [2, 2], st_contains: [2, 2], st_relate: [3, 3],
};

export const FUNCTIONS: readonly string[] = Object.keys(ARITY);

function call(expr: Extract<Expr, { kind: 'call' }>, scope: Scope): Value {
  const name = expr.name;
  const arity = ARITY[name];
  if (!arity) throw queryError(`unknown function ${name}() (known: ${FUNCTIONS.join(', ')})`, expr.pos, name);
  if (expr.args.length < arity[0] || expr.args.length > arity[1]) {
    throw queryError(`${name}() takes ${arity[0] === arity[1] ? arity[0] : `${arity[0]} or ${arity[1]}`} argument${arity[1] === 1 ? '' : 's'}, not ${expr.args.length}`, expr.pos, name);
  }
  if (name.startsWith('st_') || name.startsWith('geo.')) return spatial(expr, scope);
  const args = expr.args.map((a) => compileValue(a, scope));
  const pos = expr.pos;
  const ctx = scope.ctx;
  const str = (i: number) => asString(args[i]!, expr.args[i]!.pos);
  const num = (i: number) => asNumber(args[i]!, expr.args[i]!.pos);
  const any = (...xs: { nullable: boolean }[]): boolean => xs.some((x) => x.nullable);
  switch (name) {
    case 'substringof': { const a = str(0); const b = str(1); return { t: 'boolean', sql: `(strpos(${b.sql}, ${a.sql}) > 0)`, nullable: any(a, b) }; }
    case 'startswith': { const a = str(0); const b = str(1); return { t: 'boolean', sql: `(left(${a.sql}, char_length(${b.sql})) = ${b.sql})`, nullable: any(a, b) }; }
    case 'endswith': { const a = str(0); const b = str(1); return { t: 'boolean', sql: `(right(${a.sql}, char_length(${b.sql})) = ${b.sql})`, nullable: any(a, b) }; }
    case 'length': { const a = str(0); return { t: 'number', sql: `char_length(${a.sql})`, nullable: a.nullable }; }
    // OData positions are zero-based (OData 4.01 part 2, §5.1.1.7).
    case 'indexof': { const a = str(0); const b = str(1); return { t: 'number', sql: `(strpos(${a.sql}, ${b.sql}) - 1)`, nullable: any(a, b) }; }
    case 'substring': {
      const a = str(0);
      const from = num(1);
      if (args.length === 2) return { t: 'string', sql: `substr(${a.sql}, greatest(${from.sql}::int, 0) + 1)`, nullable: any(a, from) };
      const len = num(2);
      return { t: 'string', sql: `substr(${a.sql}, greatest(${from.sql}::int, 0) + 1, greatest(${len.sql}::int, 0))`, nullable: any(a, from, len) };
    }
    case 'tolower': { const a = str(0); return { t: 'string', sql: `lower(${a.sql})`, nullable: a.nullable }; }
    case 'toupper': { const a = str(0); return { t: 'string', sql: `upper(${a.sql})`, nullable: a.nullable }; }
    case 'trim': { const a = str(0); return { t: 'string', sql: `btrim(${a.sql})`, nullable: a.nullable }; }
    case 'concat': { const a = str(0); const b = str(1); return { t: 'string', sql: `(${a.sql} || ${b.sql})`, nullable: any(a, b) }; }
    case 'round': { const a = num(0); return { t: 'number', sql: `round((${a.sql})::numeric)::float8`, nullable: a.nullable }; }
    case 'floor': { const a = num(0); return { t: 'number', sql: `floor(${a.sql})`, nullable: a.nullable }; }
    case 'ceiling': { const a = num(0); return { t: 'number', sql: `ceil(${a.sql})`, nullable: a.nullable }; }
    case 'now': return { t: 'time', interval: false, start: 'now()', end: 'now()', nullable: false };
    case 'mindatetime': { const s = ctx.param('0001-01-01T00:00:00Z', 'timestamptz'); return { t: 'time', interval: false, start: s, end: s, nullable: false }; }
    case 'maxdatetime': { const s = ctx.param('9999-12-31T23:59:59.999999Z', 'timestamptz'); return { t: 'time', interval: false, start: s, end: s, nullable: false }; }
    case 'year': case 'month': case 'day': case 'hour': case 'minute': case 'second': case 'fractionalseconds': case 'date': case 'time': case 'totaloffsetminutes':
      return datePart(name, asTime(args[0]!, expr.args[0]!.pos, ctx), ctx);
    default: {
      // before, after, meets, during, overlaps, starts, finishes (FROST-Server's temporal functions).
      const a = asTime(args[0]!, expr.args[0]!.pos, ctx);
      const b = asTime(args[1]!, expr.args[1]!.pos, ctx);
      const nullable = a.nullable || b.nullable;
      const end = (x: typeof a): string => x.end;
      let sql: string;
      switch (name) {
        case 'before': sql = timeComparison('lt', a, b).sql; break;
        case 'after': sql = timeComparison('gt', a, b).sql; break;
        case 'meets': sql = `(${end(a)} = ${b.start} or ${end(b)} = ${a.start})`; break;
        case 'during': sql = b.interval ? `(${a.start} >= ${b.start} and ${end(a)} <= ${end(b)} and ${a.start} < ${end(b)})` : `(${a.start} = ${b.start} and ${end(a)} = ${b.start})`; break;
        case 'overlaps': sql = a.interval || b.interval ? `(${a.start} < ${end(b)} and ${end(a)} > ${b.start} or ${a.start} = ${b.start})` : `(${a.start} = ${b.start})`; break;
        case 'starts': sql = `(${a.start} = ${b.start})`; break;
        case 'finishes': sql = `(${end(a)} = ${end(b)})`; break;
        default: throw queryError(`unknown function ${name}()`, pos, name);
      }
      return { t: 'boolean', sql, nullable };
    }
  }
}

/** Parts of a time: stored times are UTC; a literal keeps the offset it was written with. */
function datePart(name: string, v: Extract<Value, { t: 'time' }>, ctx: SqlContext): Value {
  if (v.literal) {
    const i = v.literal.start;
    const local = new Date(Number(i.micros / 1000n) + i.offsetMinutes * 60_000);
    const micros = Number(((i.micros % 1_000_000n) + 1_000_000n) % 1_000_000n);
    const constants: Record<string, number> = {
      year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate(), hour: local.getUTCHours(),
      minute: local.getUTCMinutes(), second: local.getUTCSeconds(), fractionalseconds: micros / 1e6, totaloffsetminutes: i.offsetMinutes,
    };
    if (name === 'date') return { t: 'date', sql: ctx.param(local.toISOString().slice(0, 10), 'date'), nullable: false };
    if (name === 'time') return { t: 'timeofday', sql: ctx.param(`${local.toISOString().slice(11, 19)}.${String(micros).padStart(6, '0')}`, 'time'), nullable: false };
    return { t: 'number', sql: ctx.param(constants[name]!, 'float8'), nullable: false, constant: constants[name]! };
  }
  const utc = `(${v.start} at time zone 'UTC')`;
  const nullable = v.nullable;
  switch (name) {
    case 'date': return { t: 'date', sql: `${utc}::date`, nullable };
    case 'time': return { t: 'timeofday', sql: `${utc}::time`, nullable };
    case 'totaloffsetminutes': return { t: 'number', sql: `(case when ${v.start} is null then null else 0 end)`, nullable };
    case 'second': return { t: 'number', sql: `floor(extract(second from ${utc}))::float8`, nullable };
    case 'fractionalseconds': return { t: 'number', sql: `(extract(second from ${utc}) - floor(extract(second from ${utc})))::float8`, nullable };
    default: return { t: 'number', sql: `extract(${name} from ${utc})::float8`, nullable };
  }
}

// ---------------------------------------------------------------------------- geospatial

type Spatial = { kind: 'point'; lat: string; lon: string } | { kind: 'literal'; g: Geometry };

function spatialArg(v: Value, pos: number): Spatial {
  if (v.t === 'point') return { kind: 'point', lat: v.lat, lon: v.lon };
  if (v.t === 'geometry') return { kind: 'literal', g: v.value };
  throw queryError(`a geometry is needed here (a location, feature or observedArea, or geography'…'), not a ${describe(v)}`, pos);
}

/**
 * A row's point is among `passing`: the positions for which the function held. The
 * positions come as two float8 arrays; node-pg and PostgreSQL round-trip doubles exactly.
 */
function pointIn(point: { lat: string; lon: string }, passing: [number, number][], ctx: SqlContext): string {
  if (passing.length === 0) return 'false';
  const lons = ctx.param(passing.map((p) => p[0]), 'float8[]');
  const lats = ctx.param(passing.map((p) => p[1]), 'float8[]');
  return `(${point.lon}, ${point.lat}) in (select * from unnest(${lons}, ${lats}))`;
}

function spatial(expr: Extract<Expr, { kind: 'call' }>, scope: Scope): Value {
  const ctx = scope.ctx;
  const name = expr.name;
  const args = expr.args.map((a) => compileValue(a, scope));
  if (name === 'geo.length') {
    const g = spatialArg(args[0]!, expr.args[0]!.pos);
    return { t: 'number', sql: g.kind === 'point' ? `(case when ${g.lat} is null then null else 0::float8 end)` : ctx.param(geometry.length(g.g), 'float8'), nullable: g.kind === 'point' };
  }
  const a = spatialArg(args[0]!, expr.args[0]!.pos);
  const b = spatialArg(args[1]!, expr.args[1]!.pos);
  let pattern: string | null = null;
  if (name === 'st_relate') {
    const p = args[2]!;
    if (p.t !== 'string' || p.constant === undefined) throw queryError('st_relate: the third argument is a DE-9IM pattern string such as \'T********\'', expr.args[2]!.pos);
    pattern = p.constant;
  }
  const relation = pattern !== null ? { pattern } : (name as geometry.Relation);
  if (name === 'geo.distance') {
    if (a.kind === 'literal' && b.kind === 'literal') return { t: 'number', sql: ctx.param(pointOf(a.g, b.g, expr.pos, (p, g) => geometry.distance(p, g)), 'float8'), nullable: false };
    if (a.kind === 'point' && b.kind === 'point') return { t: 'number', sql: `sqrt(power(${a.lon} - ${b.lon}, 2) + power(${a.lat} - ${b.lat}, 2))`, nullable: true };
    const point = (a.kind === 'point' ? a : b) as Extract<Spatial, { kind: 'point' }>;
    const g = (a.kind === 'literal' ? a : b) as Extract<Spatial, { kind: 'literal' }>;
    if (g.g.type === 'Point') {
      return { t: 'number', sql: `sqrt(power(${point.lon} - ${ctx.param(g.g.coordinates[0], 'float8')}, 2) + power(${point.lat} - ${ctx.param(g.g.coordinates[1], 'float8')}, 2))`, nullable: true };
    }
    const positions = requirePositions(scope, expr.pos);
    const lons = ctx.param(positions.map((p) => p[0]), 'float8[]');
    const lats = ctx.param(positions.map((p) => p[1]), 'float8[]');
    const ds = ctx.param(positions.map((p) => geometry.distance(p, g.g)), 'float8[]');
    return { t: 'number', sql: `(select x.d from unnest(${lons}, ${lats}, ${ds}) x(lon, lat, d) where x.lon = ${point.lon} and x.lat = ${point.lat})`, nullable: true };
  }
  if (a.kind === 'literal' && b.kind === 'literal') {
    const result = a.g.type === 'Point' ? geometry.relate(relation, a.g.coordinates, b.g, true)
      : b.g.type === 'Point' ? geometry.relate(relation, b.g.coordinates, a.g, false)
        : unsupportedPair(name, expr.pos);
    return { t: 'boolean', sql: result ? 'true' : 'false', nullable: false };
  }
  if (a.kind === 'point' && b.kind === 'point') {
    const same = `(${a.lon} = ${b.lon} and ${a.lat} = ${b.lat})`;
    switch (relation) {
      case 'st_equals': case 'st_intersects': case 'geo.intersects': case 'st_within': case 'st_contains': return { t: 'boolean', sql: same, nullable: true };
      case 'st_disjoint': return { t: 'boolean', sql: `(not ${same})`, nullable: true };
      case 'st_touches': case 'st_crosses': case 'st_overlaps': return { t: 'boolean', sql: 'false', nullable: false };
      default: throw queryError('st_relate between two properties is not implemented: give one geometry as geography\'…\'', expr.pos, name, 501);
    }
  }
  const pointFirst = a.kind === 'point';
  const point = (pointFirst ? a : b) as Extract<Spatial, { kind: 'point' }>;
  const g = ((pointFirst ? b : a) as Extract<Spatial, { kind: 'literal' }>).g;
  const positions = requirePositions(scope, expr.pos);
  // Relations that need the point to meet the geometry can only hold inside its bounding box.
  const needsContact = typeof relation === 'string' && relation !== 'st_disjoint';
  const [x0, y0, x1, y1] = geometry.bbox(g);
  const passing = positions.filter((p) => (!needsContact || (p[0] >= x0 && p[0] <= x1 && p[1] >= y0 && p[1] <= y1)) && geometry.relate(relation, p, g, pointFirst));
  return { t: 'boolean', sql: pointIn(point, passing, ctx), nullable: true };
}

function pointOf(a: Geometry, b: Geometry, pos: number, f: (p: [number, number], g: Geometry) => number): number {
  if (a.type === 'Point') return f(a.coordinates, b);
  if (b.type === 'Point') return f(b.coordinates, a);
  return unsupportedPair('geo.distance', pos);
}

function unsupportedPair(name: string, pos: number): never {
  throw queryError(`${name} between two geometries neither of which is a point is not implemented (every position here is a point)`, pos, name, 501);
}

function requirePositions(scope: Scope, pos: number): Positions {
  if (!scope.positions) throw queryError('internal: positions for geospatial functions were not loaded', pos);
  return scope.positions;
}

/** Does the expression use a geospatial function (so the request must load positions first)? */
export function usesGeometry(expr: Expr | null | undefined): boolean {
  if (!expr) return false;
  switch (expr.kind) {
    case 'call': return expr.name.startsWith('st_') || expr.name.startsWith('geo.') || expr.args.some(usesGeometry);
    case 'binary': return usesGeometry(expr.left) || usesGeometry(expr.right);
    case 'not': return usesGeometry(expr.operand);
    default: return false;
  }
}

/** Bounding box of every geometry literal in `expr`, or null when some relation needs all positions. */
export function geometryBounds(expr: Expr): [number, number, number, number] | null {
  let box: [number, number, number, number] | null = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (e: Expr): void => {
    if (e.kind === 'call') {
      const pointLiteral = e.args.some((a) => a.kind === 'literal' && a.type === 'geometry' && a.value.type === 'Point');
      if (e.name === 'st_disjoint' || e.name === 'st_relate' || (e.name === 'geo.distance' && !pointLiteral)) box = null;
      for (const arg of e.args) {
        if (arg.kind === 'literal' && arg.type === 'geometry' && box) {
          const [a, b, c, d] = geometry.bbox(arg.value);
          box = [Math.min(box[0], a), Math.min(box[1], b), Math.max(box[2], c), Math.max(box[3], d)];
        }
        walk(arg);
      }
    } else if (e.kind === 'binary') {
      walk(e.left);
      walk(e.right);
    } else if (e.kind === 'not') {
      // Exact either way: a position outside the box never passes a relation that needs contact.
      walk(e.operand);
    }
  };
  walk(expr);
  return box;
}
