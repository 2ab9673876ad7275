/**
 * The parsed form of SensorThings query options ($filter, $orderby, $select, $expand …),
 * as the API's parser (api/sta/odata-parser.ts) produces it and the SQL compiler
 * (storage/sta/compile-expression.ts) consumes it. Every node keeps the position of its
 * first character in the option's text, so an error can name where it is.
 * Values from the query never become SQL text: literals travel as parameters.
 */

/** A geometry from a WKT literal (geography'…'); coordinates are [x, y] = [longitude, latitude]. */
export type Position = [number, number];
export type Geometry =
  | { type: 'Point'; coordinates: Position }
  | { type: 'LineString'; coordinates: Position[] }
  | { type: 'Polygon'; coordinates: Position[][] }
  | { type: 'MultiPoint'; coordinates: Position[] }
  | { type: 'MultiLineString'; coordinates: Position[][] }
  | { type: 'MultiPolygon'; coordinates: Position[][][] }
  | { type: 'GeometryCollection'; geometries: Geometry[] };

/** An instant: epoch microseconds, and the offset the literal was written with (totaloffsetminutes). */
export interface Instant {
  micros: bigint;
  offsetMinutes: number;
}

export type Literal =
  | { kind: 'literal'; type: 'string'; value: string; pos: number }
  | { kind: 'literal'; type: 'number'; value: number; integer: boolean; pos: number }
  | { kind: 'literal'; type: 'boolean'; value: boolean; pos: number }
  | { kind: 'literal'; type: 'null'; pos: number }
  | { kind: 'literal'; type: 'datetime'; value: Instant; pos: number }
  /** A date without time (2020-01-31): for comparisons with date(). */
  | { kind: 'literal'; type: 'date'; value: string; pos: number }
  /** A time of day (12:00:00): for comparisons with time(). */
  | { kind: 'literal'; type: 'timeofday'; value: string; pos: number }
  /** An ISO 8601 duration, kept as written (PostgreSQL reads it as an interval). */
  | { kind: 'literal'; type: 'duration'; value: string; pos: number }
  | { kind: 'literal'; type: 'interval'; start: Instant; end: Instant; pos: number }
  | { kind: 'literal'; type: 'geometry'; value: Geometry; pos: number };

export type BinaryOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'and' | 'or' | 'add' | 'sub' | 'mul' | 'div' | 'mod';

export type Expr =
  | Literal
  /** A property path: ["name"], ["Datastream", "Thing", "name"], ["properties", "kind"], ["unitOfMeasurement", "symbol"]. */
  | { kind: 'member'; path: string[]; pos: number }
  | { kind: 'binary'; op: BinaryOperator; left: Expr; right: Expr; pos: number }
  | { kind: 'not'; operand: Expr; pos: number }
  | { kind: 'call'; name: string; args: Expr[]; pos: number };

export interface OrderItem {
  expr: Expr;
  descending: boolean;
}

/**
 * The position after the last Observation of a page, in the order of phenomenonTime and
 * the tie-breaker: its phenomenon time's start and end (epoch microseconds) and its
 * Datastream. A next link carries it so the next page starts there (keyset paging).
 */
export interface SkipToken {
  t0: bigint;
  t1: bigint;
  datastreamId: bigint;
}

/** Query options of one collection or entity, and of each $expand item within it. */
export interface QueryOptions {
  /** $select: property and navigation names; null: everything. */
  select: string[] | null;
  expand: ExpandItem[];
  filter: Expr | null;
  orderby: OrderItem[];
  top: number | null;
  skip: number;
  count: boolean;
  /** $resultFormat=dataArray (Observations only). */
  dataArray: boolean;
  /** $skiptoken: where the previous page ended (from a next link; top level only). */
  skipToken?: SkipToken;
  /** Each option's text as the client wrote it (for next links that repeat the request). */
  text?: Record<string, string>;
}

export interface ExpandItem {
  /** Navigation names from the parent: ["Datastreams"] or ["Datastreams", "Sensor"] (each level expanded). */
  path: string[];
  options: QueryOptions;
  pos: number;
}

export function emptyOptions(): QueryOptions {
  return { select: null, expand: [], filter: null, orderby: [], top: null, skip: 0, count: false, dataArray: false };
}
