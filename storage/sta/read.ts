/**
 * Reading SensorThings entities: the statements for a resource path, a collection page,
 * its count, and the expansions of a page, built from entities.ts, the expression
 * compiler and observations.ts. All values from the request are parameters.
 *
 * A page is read with one row more than asked ($top + 1): that row only tells whether a
 * next page exists, so @iot.nextLink appears exactly when there is more. @iot.count is a
 * separate count(*) over the same filter without $top/$skip, on every page.
 * Expansions are read per level for all parents of a page at once (one statement per
 * expanded navigation), each parent's $top/$skip/$orderby inside a LATERAL subquery.
 */
import pg from 'pg';
import type { Expr, OrderItem, QueryOptions, SkipToken } from './ast.js';
import type { Level } from './ids.js';
import { compileBoolean, compileValue, geometryBounds, usesGeometry, type Positions, type Scope } from './compile-expression.js';
import { aliasCols, ENTITY_TYPES, type Col, type EntityType, type RelationDef } from './entities.js';
import { queryError, StaQueryError } from './errors.js';
import { isZoneKey, parseObservationId } from './ids.js';
import { trackConnections } from '../database.js';
import { featureAt, observationsOf, type ObservationBranchOptions } from './observations.js';
import { SqlContext, type StaMetric } from './sql-context.js';
import { microsToIso } from './time.js';

type Db = pg.ClientBase | pg.Pool;
export type Row = Record<string, unknown>;

export interface ReadSettings {
  all: boolean;
  timescale: boolean;
  metrics: readonly StaMetric[];
}

/** A resolved single entity: its type and row (the base relation's columns). */
export interface Resolved {
  type: EntityType;
  row: Row;
}

/** Where a collection's members come from: everything visible, or one parent's navigation. */
export interface Collection {
  type: EntityType;
  parent: { resolved: Resolved; relation: string } | null;
}

const US = (sql: string): string => `(extract(epoch from ${sql}) * 1000000)::int8`;

/** The columns a page of `type` returns (times as epoch microseconds). */
function outputColumns(type: EntityType, x: Col): string {
  switch (type.name) {
    case 'Thing': return ['id', 'asset_id', 'name', 'description', 'properties', 'latitude', 'longitude'].map(x).join(', ');
    case 'Location': return ['id', 'asset_id', 'name', 'description', 'latitude', 'longitude'].map(x).join(', ');
    case 'HistoricalLocation': return `${x('id')}, ${x('asset_id')}, ${x('location_id')}, ${US(x('time'))} as time`;
    case 'Sensor': return ['id', 'model_id', 'name', 'description', 'metadata', 'properties'].map(x).join(', ');
    case 'ObservedProperty': return ['id', 'metric', 'name', 'definition', 'description', 'properties'].map(x).join(', ');
    case 'Datastream':
      return `${['id', 'asset_id', 'metric', 'channel', 'level', 'model_id', 'name', 'description', 'unit_name', 'unit_symbol', 'unit_definition', 'properties', 'latitude', 'longitude'].map(x).join(', ')},
        ${US(x('phenomenon_start'))} as phenomenon_start, ${US(x('phenomenon_end'))} as phenomenon_end`;
    case 'FeatureOfInterest': return ['id', 'asset_id', 'name', 'description', 'latitude', 'longitude', 'properties'].map(x).join(', ');
    case 'Observation':
      return `${x('datastream_id')} as datastream_id, ${x('level')} as level, ${x('asset_id')} as asset_id, ${US(x('t0'))} as t0, ${US(x('t1'))} as t1,
        ${US(x('result_time'))} as result_time, ${x('value')} as value, ${x('quality')} as quality, ${x('result_quality')} as result_quality, ${x('parameters')} as parameters`;
  }
}

// ---------------------------------------------------------------------------- building blocks

/** Distinct asset positions, for the geospatial functions of `exprs` (see compile-expression.ts). */
export async function loadPositions(db: Db, exprs: (Expr | null)[]): Promise<Positions | null> {
  const used = exprs.filter((e): e is Expr => e !== null && usesGeometry(e));
  if (used.length === 0) return null;
  const boxes = used.map(geometryBounds);
  const unbounded = boxes.some((b) => b === null);
  const box = unbounded ? null : boxes.reduce((a, b) => [Math.min(a![0], b![0]), Math.min(a![1], b![1]), Math.max(a![2], b![2]), Math.max(a![3], b![3])]);
  const { rows } = await db.query<{ lon: number; lat: number }>(
    `select distinct longitude as lon, latitude as lat from asset_locations
     where $1::float8 is null or (longitude between $1 and $3 and latitude between $2 and $4)`,
    box ? box : [null, null, null, null],
  );
  return rows.map((r) => [r.lon, r.lat] as [number, number]);
}

/** Every expression of a query tree (filters and orderings of it and its expansions). */
export function expressionsOf(options: QueryOptions): Expr[] {
  return [
    ...(options.filter ? [options.filter] : []),
    ...options.orderby.map((o) => o.expr),
    ...options.expand.flatMap((e) => expressionsOf(e.options)),
  ];
}

/**
 * ORDER BY terms for `orderby` over a row, then the unique tie-breaker. A value reached
 * through navigation becomes a scalar subquery (to-one navigation only).
 */
function orderTerms(ctx: SqlContext, type: EntityType, col: Col, orderby: OrderItem[], positions: Positions | null): string {
  const terms: string[] = [];
  for (const item of orderby) {
    const joins: { from: string; where: string }[] = [];
    const scope: Scope = { ctx, entity: type, col, positions, joins, joined: new Map() };
    const v = compileValue(item.expr, scope);
    const dir = item.descending ? 'desc' : 'asc';
    const wrap = (sql: string): string => (joins.length === 0 ? sql : `(select ${sql} from ${joins.map((j) => j.from).join(', ')} where ${joins.map((j) => j.where).join(' and ')} limit 1)`);
    switch (v.t) {
      case 'time': terms.push(`${wrap(v.start)} ${dir}`, `${wrap(v.end)} ${dir}`); break;
      case 'obsid': terms.push(`${v.datastream} ${dir}`, `${v.t0} ${dir}`); break;
      case 'point': case 'geometry': throw queryError('$orderby cannot order by a geometry; order by geo.distance(…) instead', item.expr.pos);
      case 'null': break;
      default: terms.push(`${wrap(v.sql)} ${dir}`);
    }
  }
  if (type.name === 'Observation') terms.push(`${col('datastream_id')}`, `${col('t0')}`);
  else terms.push(col('id'));
  return terms.join(', ');
}

function filterSql(ctx: SqlContext, type: EntityType, col: Col, filter: Expr | null, positions: Positions | null): string {
  return filter ? compileBoolean(filter, { ctx, entity: type, col, positions }) : 'true';
}

/** The condition that row `x` of `relation`'s target belongs to the resolved parent. */
function parentCondition(ctx: SqlContext, parent: Resolved, relation: string, x: Col): string {
  const rel = parent.type.relations[relation]!;
  if (parent.type.name === 'Observation') {
    const row = parent.row;
    if (relation === 'Datastream') return `${x('id')} = ${ctx.param(row.datastream_id, 'int8')}`;
    return `${x('id')} = ${featureAt(ctx.param(row.asset_id, 'text'), ctx.param(microsToIso(BigInt(row.t0 as number)), 'timestamptz'))}`;
  }
  const p = ctx.alias('p');
  return `exists (select 1 from (${parent.type.base!(ctx)}) ${p} where ${p}.id = ${ctx.param(parent.row.id, 'int8')} and ${rel.join!(aliasCols(p), x)})`;
}

// ---------------------------------------------------------------------------- Observations

interface ObservationPlan {
  /** FROM items yielding Datastream rows `d` (and their WHERE). */
  from: (ctx: SqlContext, d: string) => { from: string; where: string };
  /** An extra condition on each Observation row (a FeatureOfInterest's). */
  rowCondition?: (ctx: SqlContext, row: Col) => string;
  withFeature: boolean;
  /** Which Observation branches the Datastreams need (all when not known). */
  branches?: ObservationBranches;
}

/**
 * What is known of the Datastreams `d` before the statement runs: the levels they can
 * have and whether they can be a zone's (observationsOf builds only those branches).
 */
type ObservationBranches = Pick<ObservationBranchOptions, 'levels' | 'zones'>;

function observationPlan(parent: Collection['parent']): ObservationPlan {
  if (!parent) return { from: (ctx, d) => ({ from: `(${ENTITY_TYPES.Datastream.base!(ctx)}) ${d}`, where: 'true' }), withFeature: false };
  const row = parent.resolved.row;
  if (parent.resolved.type.name === 'Datastream') {
    // The Datastream was resolved (and its visibility checked) a statement earlier: its key
    // columns as parameters spare the planner the Datastream view and the other levels'
    // branches (the recursive bucket walks), a third of a month page's time.
    return {
      from: (ctx, d) => ({
        from: `(select ${ctx.param(row.id, 'int8')} as id, ${ctx.param(row.asset_id, 'text')} as asset_id, ${ctx.param(row.metric, 'text')} as metric,
          ${ctx.param(row.channel, 'text')} as channel, ${ctx.param(row.level, 'text')} as level) ${d}`,
        where: 'true',
      }),
      withFeature: false,
      branches: { levels: [row.level as Level], zones: isZoneKey(row.asset_id as string) ? 'only' : 'none' },
    };
  }
  // A FeatureOfInterest: the Datastreams of its asset, readings taken where it is.
  return {
    from: (ctx, d) => ({ from: `(${ENTITY_TYPES.Datastream.base!(ctx)}) ${d}`, where: `${d}.asset_id = ${ctx.param(row.asset_id, 'text')}` }),
    rowCondition: (ctx, r) => `${r('feature_id')} = ${ctx.param(row.id, 'int8')}`,
    withFeature: true,
  };
}

/** Observations of the Datastreams `d` (a FROM alias in scope), filtered, ordered and limited per Datastream. */
function observationLateral(ctx: SqlContext, d: string, options: QueryOptions, positions: Positions | null, limit: number | null, rowCondition?: (ctx: SqlContext, row: Col) => string, withFeature = false, more: { after?: (row: Col) => string; branches?: ObservationBranches } = {}): string {
  const type = ENTITY_TYPES.Observation;
  const filter = (row: Col): string => {
    const parts = [filterSql(ctx, type, row, options.filter, positions)];
    if (rowCondition) parts.push(rowCondition(ctx, row));
    if (more.after) parts.push(more.after(row));
    return parts.join(' and ');
  };
  const hasFilter = options.filter !== null || rowCondition !== undefined || more.after !== undefined;
  return observationsOf(ctx, aliasCols(d), {
    filter: hasFilter ? filter : null,
    order: limit === null ? null : (row) => orderTerms(ctx, type, row, options.orderby, positions),
    limit,
    withFeature: withFeature || rowCondition !== undefined,
    timeOrder: timeOrderOf(options.orderby),
    ...more.branches,
  });
}

/** Whether Datastream rows `parents` are zones' ('only'), none is ('none'), or some are (undefined: both). */
function zonesOf(parents: readonly Row[]): 'none' | 'only' | undefined {
  const zones = parents.filter((p) => isZoneKey(p.asset_id as string)).length;
  return zones === 0 ? 'none' : zones === parents.length ? 'only' : undefined;
}

/** asc/desc when the Observations are ordered by phenomenon time first (the default order is by time). */
function timeOrderOf(orderby: OrderItem[]): 'asc' | 'desc' | null {
  if (orderby.length === 0) return 'asc';
  const first = orderby[0]!;
  if (first.expr.kind !== 'member' || first.expr.path.length !== 1 || first.expr.path[0] !== 'phenomenonTime') return null;
  return first.descending ? 'desc' : 'asc';
}

/**
 * How a page of Observations is ordered, when its next page can start after its last row
 * (keyset paging): 'datastream' without $orderby (by Datastream, then phenomenon time),
 * 'asc' or 'desc' for `$orderby=phenomenonTime [asc|desc]` alone (by phenomenon time's
 * start and end, then Datastream: orderTerms). The last row's t0, t1 and Datastream id
 * place it in either order. Null for any other order (those page by $skip).
 */
export type KeysetOrder = 'datastream' | 'asc' | 'desc';

export function keysetOrder(type: EntityType, options: QueryOptions): KeysetOrder | null {
  if (type.name !== 'Observation') return null;
  if (options.orderby.length === 0) return 'datastream';
  if (options.orderby.length > 1) return null;
  return timeOrderOf(options.orderby);
}

/** The Observations after `token` in `order`, as a condition over a row. */
function afterToken(ctx: SqlContext, token: SkipToken, order: KeysetOrder): (row: Col) => string {
  const t0 = ctx.param(microsToIso(token.t0), 'timestamptz');
  const t1 = ctx.param(microsToIso(token.t1), 'timestamptz');
  const ds = ctx.param(token.datastreamId.toString(), 'int8');
  // Within one Datastream (a constant in its branch) the condition folds to a bound on
  // time, which an index range of the readings' key (…, time) uses.
  if (order === 'datastream') return (row) => `(${row('datastream_id')} > ${ds} or (${row('datastream_id')} = ${ds} and ${row('t0')} > ${t0}))`;
  const beyond = order === 'asc' ? '>' : '<';
  // The first term alone is what an index range can use; the rest places rows that share
  // the last row's time.
  return (row) => `${row('t0')} ${beyond}= ${t0} and (${row('t0')} ${beyond} ${t0} or ${row('t1')} ${beyond} ${t1} or (${row('t1')} = ${t1} and ${row('datastream_id')} > ${ds}))`;
}

// ---------------------------------------------------------------------------- public API

export interface Page {
  rows: Row[];
  /** More rows follow this page. */
  more: boolean;
  count: number | null;
}

/**
 * The SensorThings reads' own pool: its connections are opened with a statement time limit
 * (no request scans without end), so no request pays a round trip to set and reset it, and
 * a stopped query never holds one of the connections ingest and the rest of the API use.
 */
export function createStaPool(base: pg.Pool, options: { timeoutMs: number; max: number; onError: (error: Error) => void }): pg.Pool {
  const config = base.options as pg.PoolConfig & { options?: string };
  const pool = new pg.Pool({
    ...config,
    max: options.max,
    application_name: 'stadtfunk-sta',
    options: `${config.options ?? ''} -c statement_timeout=${Math.trunc(options.timeoutMs)}`.trim(),
  });
  pool.on('error', options.onError);
  trackConnections(pool);
  return pool;
}

/** Runs `work` on one connection of the SensorThings pool; a statement stopped by its time limit is a 400. */
export async function withTimeLimit<T>(pool: pg.Pool, timeoutMs: number, work: (db: pg.ClientBase) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error): void => {
    broken ??= error;
  };
  client.on('error', onError);
  try {
    return await work(client);
  } catch (error) {
    if ((error as { code?: string }).code === '57014') {
      throw new StaQueryError(`the query took longer than ${timeoutMs} ms and was stopped: narrow it ($filter on a Datastream or a time range, a smaller $top)`, { status: 400 });
    }
    if (!(error instanceof StaQueryError) && (error as { code?: string }).code === undefined) broken ??= error as Error;
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

export class StaReader {
  constructor(private readonly db: pg.ClientBase, private readonly settings: ReadSettings) {}

  private context(): SqlContext {
    return new SqlContext(this.settings.all, this.settings.timescale, this.settings.metrics);
  }

  private async query(ctx: SqlContext, text: string): Promise<Row[]> {
    const { rows } = await this.db.query<Row>(ctx.statement(text), ctx.values);
    return rows;
  }

  /** One entity of `type` with `key`, under `parent` when given; null when there is none (or it is hidden). */
  async entity(type: EntityType, key: number | string | null, parent: { resolved: Resolved; relation: string } | null): Promise<Row | null> {
    const ctx = this.context();
    if (type.name === 'Observation') {
      if (typeof key !== 'string') return null;
      const id = parseObservationId(key);
      if (!id) return null;
      const d = ctx.alias('d');
      const options = { select: null, expand: [], filter: null, orderby: [], top: 1, skip: 0, count: false, dataArray: false };
      const at = ctx.param(microsToIso(id.micros), 'timestamptz');
      const lateral = observationLateral(ctx, d, options, null, 1, (_c, row) => `${row('t0')} = ${at}`);
      const o = ctx.alias('o');
      const rows = await this.query(ctx, `select ${outputColumns(type, aliasCols(o))} from (${ENTITY_TYPES.Datastream.base!(ctx)}) ${d}
        cross join lateral (${lateral}) ${o} where ${d}.id = ${ctx.param(id.datastreamId, 'int8')} limit 1`);
      return rows[0] ?? null;
    }
    if (key !== null && (typeof key !== 'number' || !Number.isSafeInteger(key))) return null;
    const x = ctx.alias('x');
    const col = aliasCols(x);
    const conditions = [];
    if (key !== null) conditions.push(`${x}.id = ${ctx.param(key, 'int8')}`);
    if (parent) conditions.push(parentCondition(ctx, parent.resolved, parent.relation, col));
    const rows = await this.query(ctx, `select ${outputColumns(type, col)} from (${type.base!(ctx)}) ${x} where ${conditions.join(' and ') || 'true'} limit 2`);
    return rows[0] ?? null;
  }

  /**
   * The entities of `type` among `keys` that this reader may see, in one statement (the
   * MQTT publisher announces thousands of new Datastreams at once). Not for Observations.
   */
  async entities(type: EntityType, keys: readonly number[]): Promise<Row[]> {
    if (type.name === 'Observation' || keys.length === 0) return [];
    const ctx = this.context();
    const x = ctx.alias('x');
    const col = aliasCols(x);
    return this.query(ctx, `select ${outputColumns(type, col)} from (${type.base!(ctx)}) ${x} where ${x}.id = any(${ctx.param(keys.filter((k) => Number.isSafeInteger(k)), 'int8[]')})`);
  }

  /**
   * A page of a collection: $filter, $orderby, $skiptoken, $skip, $top (+1 to know about
   * more), and $count. A $skiptoken (Observations in a keyset order: keysetOrder)
   * starts the page after the row it names, by an index range instead of OFFSET.
   */
  async page(collection: Collection, options: QueryOptions, top: number, positions: Positions | null): Promise<Page> {
    // $top=0 asks for the count alone: no rows, and no next link (it would never advance).
    const rows = top === 0 ? [] : await this.pageRows(collection, options, top + 1, options.skip, positions);
    const count = options.count ? await this.count(collection, options.filter, positions) : null;
    return { rows: rows.slice(0, top), more: rows.length > top, count };
  }

  private async pageRows(collection: Collection, options: QueryOptions, limit: number, offset: number, positions: Positions | null): Promise<Row[]> {
    const ctx = this.context();
    const type = collection.type;
    const keyset = keysetOrder(type, options);
    if (options.skipToken && !keyset) {
      throw new StaQueryError('$skiptoken: only in the next links of Observations in their default order or ordered by phenomenonTime; follow @iot.nextLink as it is', { option: '$skiptoken', status: 400 });
    }
    if (type.name === 'Observation') {
      const plan = observationPlan(collection.parent);
      const d = ctx.alias('d');
      const source = plan.from(ctx, d);
      const after = options.skipToken ? afterToken(ctx, options.skipToken, keyset!) : undefined;
      const lateral = observationLateral(ctx, d, options, positions, limit + offset, plan.rowCondition, plan.withFeature, { after, branches: plan.branches });
      const o = ctx.alias('o');
      return this.query(ctx, `select ${outputColumns(type, aliasCols(o))} from ${source.from} cross join lateral (${lateral}) ${o}
        where ${source.where} order by ${orderTerms(ctx, type, aliasCols(o), options.orderby, positions)} limit ${limit} offset ${offset}`);
    }
    const x = ctx.alias('x');
    const col = aliasCols(x);
    const conditions = [filterSql(ctx, type, col, options.filter, positions)];
    if (collection.parent) conditions.push(parentCondition(ctx, collection.parent.resolved, collection.parent.relation, col));
    return this.query(ctx, `select ${outputColumns(type, col)} from (${type.base!(ctx)}) ${x} where ${conditions.join(' and ')}
      order by ${orderTerms(ctx, type, col, options.orderby, positions)} limit ${limit} offset ${offset}`);
  }

  /** count(*) of a collection under its filter (what @iot.count reports on every page). */
  async count(collection: Collection, filter: Expr | null, positions: Positions | null): Promise<number> {
    const ctx = this.context();
    const type = collection.type;
    const options: QueryOptions = { select: null, expand: [], filter, orderby: [], top: null, skip: 0, count: true, dataArray: false };
    let text: string;
    if (type.name === 'Observation') {
      const plan = observationPlan(collection.parent);
      const d = ctx.alias('d');
      const source = plan.from(ctx, d);
      const lateral = observationLateral(ctx, d, options, positions, null, plan.rowCondition, plan.withFeature, { branches: plan.branches });
      text = `select count(*)::int8 as n from ${source.from} cross join lateral (${lateral}) o where ${source.where}`;
    } else {
      const x = ctx.alias('x');
      const col = aliasCols(x);
      const conditions = [filterSql(ctx, type, col, filter, positions)];
      if (collection.parent) conditions.push(parentCondition(ctx, collection.parent.resolved, collection.parent.relation, col));
      text = `select count(*)::int8 as n from (${type.base!(ctx)}) ${x} where ${conditions.join(' and ')}`;
    }
    const rows = await this.query(ctx, text);
    return Number(rows[0]!.n);
  }

  /**
   * The expansion `relation` of the parent rows of one page: for each parent, its related
   * rows (to-one: at most one) under the expansion's own options, and counts when asked.
   * Returns rows grouped by parent key (id; for Observations the row index).
   */
  async expand(parentType: EntityType, parents: Row[], relation: string, options: QueryOptions, top: number, positions: Positions | null): Promise<{ rows: Map<unknown, Row[]>; counts: Map<unknown, number> | null }> {
    const rel: RelationDef = parentType.relations[relation]!;
    const target = ENTITY_TYPES[rel.target];
    const rows = new Map<unknown, Row[]>();
    const counts = options.count && rel.many ? new Map<unknown, number>() : null;
    if (parents.length === 0) return { rows, counts };
    const limit = rel.many ? top + 1 : 1;
    const offset = rel.many ? options.skip : 0;
    if (parentType.name === 'Observation') return { rows: await this.expandFromObservations(parents, relation, options, positions), counts };
    const ids = parents.map((p) => p.id);
    const ctx = this.context();
    const p = ctx.alias('p');
    const pcol = aliasCols(p);
    const o = ctx.alias('c');
    let inner: string;
    if (target.name === 'Observation') {
      const oo = ctx.alias('o');
      const order = `order by ${orderTerms(ctx, target, aliasCols(oo), options.orderby, positions)} limit ${limit} offset ${offset}`;
      if (parentType.name === 'Datastream') {
        // The parent row is the Datastream: its Observations directly, from the branches its kind can use.
        inner = `select ${outputColumns(target, aliasCols(oo))} from (${observationLateral(ctx, p, options, positions, limit + offset, undefined, false, { branches: { zones: zonesOf(parents) } })}) ${oo} ${order}`;
      } else {
        const d = ctx.alias('d');
        const lateral = observationLateral(ctx, d, options, positions, limit + offset, (_c, row) => `${row('feature_id')} = ${p}.id`);
        inner = `select ${outputColumns(target, aliasCols(oo))} from (${ENTITY_TYPES.Datastream.base!(ctx)}) ${d} cross join lateral (${lateral}) ${oo}
          where ${d}.asset_id = ${p}.asset_id ${order}`;
      }
    } else {
      const x = ctx.alias('x');
      const col = aliasCols(x);
      inner = `select ${outputColumns(target, col)} from (${target.base!(ctx)}) ${x}
        where ${rel.join!(pcol, col)} and ${filterSql(ctx, target, col, options.filter, positions)}
        order by ${orderTerms(ctx, target, col, options.orderby, positions)} limit ${limit} offset ${offset}`;
    }
    const found = await this.query(ctx, `select ${p}.id as _parent, ${o}.* from (${parentType.base!(ctx)}) ${p}
      cross join lateral (${inner}) ${o} where ${p}.id = any(${ctx.param(ids, 'int8[]')})`);
    for (const id of ids) rows.set(id, []);
    for (const row of found) rows.get(row._parent)?.push(row);
    if (counts) {
      const cctx = this.context();
      const cp = cctx.alias('p');
      let countSql: string;
      if (target.name === 'Observation') {
        if (parentType.name === 'Datastream') {
          countSql = `(select count(*) from (${observationLateral(cctx, cp, options, positions, null, undefined, false, { branches: { zones: zonesOf(parents) } })}) o)`;
        } else {
          const d = cctx.alias('d');
          const lateral = observationLateral(cctx, d, options, positions, null, (_c, row) => `${row('feature_id')} = ${cp}.id`);
          countSql = `(select count(*) from (${ENTITY_TYPES.Datastream.base!(cctx)}) ${d} cross join lateral (${lateral}) o where ${d}.asset_id = ${cp}.asset_id)`;
        }
      } else {
        const x = cctx.alias('x');
        const col = aliasCols(x);
        countSql = `(select count(*) from (${target.base!(cctx)}) ${x} where ${rel.join!(aliasCols(cp), col)} and ${filterSql(cctx, target, col, options.filter, positions)})`;
      }
      const counted = await this.query(cctx, `select ${cp}.id as _parent, ${countSql}::int8 as n from (${parentType.base!(cctx)}) ${cp} where ${cp}.id = any(${cctx.param(ids, 'int8[]')})`);
      for (const c of counted) counts.set(c._parent, Number(c.n));
    }
    return { rows, counts };
  }

  /**
   * Datastream or FeatureOfInterest of each Observation of a page (keyed by row index),
   * in one statement: the related ids are known (datastream_id) or found (where the asset
   * stood at t0) for all rows at once.
   */
  private async expandFromObservations(parents: Row[], relation: string, options: QueryOptions, positions: Positions | null): Promise<Map<unknown, Row[]>> {
    const target = relation === 'Datastream' ? ENTITY_TYPES.Datastream : ENTITY_TYPES.FeatureOfInterest;
    const ctx = this.context();
    const k = ctx.alias('k');
    const x = ctx.alias('x');
    const col = aliasCols(x);
    const key = relation === 'Datastream'
      ? `${k}.ds`
      : featureAt(`${k}.asset`, `to_timestamp(${k}.t0::float8 / 1000000)`);
    const found = await this.query(ctx, `select ${k}.i as _parent, ${outputColumns(target, col)}
      from unnest(${ctx.param(parents.map((r) => r.datastream_id), 'int8[]')}, ${ctx.param(parents.map((r) => r.asset_id), 'text[]')}, ${ctx.param(parents.map((r) => r.t0), 'int8[]')})
        with ordinality as ${k}(ds, asset, t0, i)
      join (${target.base!(ctx)}) ${x} on ${x}.id = ${key}
      where ${filterSql(ctx, target, col, options.filter, positions)}`);
    const rows = new Map<unknown, Row[]>();
    parents.forEach((_, i) => rows.set(i, []));
    for (const row of found) rows.get(Number(row._parent) - 1)?.push(row);
    return rows;
  }
}

export { queryError };

/**
 * Compiles each $filter and $orderby of a query tree once without running it, so an error
 * names the option it is in ($expand for options nested in an expansion).
 */
export function checkExpressions(type: EntityType, options: QueryOptions, option: string | null): void {
  const ctx = new SqlContext(false, false, []);
  const col: Col = (c) => `x.${c}`;
  const named = (o: string, work: () => void): void => {
    try {
      work();
    } catch (error) {
      if (error instanceof StaQueryError && !error.details.option) {
        const { position, token } = error.details;
        throw new StaQueryError(`${o}: ${error.message}${position !== undefined ? ` at position ${position}` : ''}${token !== undefined ? ` ('${token}')` : ''}`, { ...error.details, option: o });
      }
      throw error;
    }
  };
  if (options.filter) named(option ?? '$filter', () => compileBoolean(options.filter!, { ctx, entity: type, col, positions: [] }));
  if (options.orderby.length > 0) named(option ?? '$orderby', () => orderTerms(ctx, type, col, options.orderby, []));
  for (const item of options.expand) {
    const rel = type.relations[item.path[0]!];
    if (rel) checkExpressions(ENTITY_TYPES[rel.target], item.options, '$expand');
  }
}
