/**
 * Spatial relations between a point and a geometry, in the plane of WGS84 degrees (as
 * PostGIS computes them on SRID 4326 geometries, which is what FROST-Server answers):
 * the OGC Simple Features relations (DE-9IM, OGC 06-103r4 §6.1.15) for the case that
 * matters here — every position in stadtfunk's model is a point (assets have a
 * latitude and longitude), so Location/location, FeatureOfInterest/feature and a
 * Datastream's observedArea are points, and a query's geometry literal is anything.
 *
 * Exact arithmetic on doubles: a point is on a segment when the cross product is 0 and
 * it lies within the segment's box; no tolerance, as PostGIS.
 */
import type { Geometry, Position } from './ast.js';
import { queryError } from './errors.js';

type Dim = 'F' | '0' | '1' | '2';

/** Where a point lies relative to a geometry: its interior, its boundary or outside. */
type Place = 'interior' | 'boundary' | 'exterior';

function onSegment(p: Position, a: Position, b: Position): boolean {
  const cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
  if (cross !== 0) return false;
  return p[0] >= Math.min(a[0], b[0]) && p[0] <= Math.max(a[0], b[0]) && p[1] >= Math.min(a[1], b[1]) && p[1] <= Math.max(a[1], b[1]);
}

const same = (a: Position, b: Position): boolean => a[0] === b[0] && a[1] === b[1];

/** Even-odd ray casting; a point on the ring is reported separately. */
function ringPlace(p: Position, ring: Position[]): Place {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i]!;
    const b = ring[j]!;
    if (onSegment(p, a, b)) return 'boundary';
    if ((a[1] > p[1]) !== (b[1] > p[1]) && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside ? 'interior' : 'exterior';
}

function polygonPlace(p: Position, rings: Position[][]): Place {
  const outer = ringPlace(p, rings[0] ?? []);
  if (outer !== 'interior') return outer;
  for (const hole of rings.slice(1)) {
    const h = ringPlace(p, hole);
    if (h === 'boundary') return 'boundary';
    if (h === 'interior') return 'exterior';
  }
  return 'interior';
}

/** Boundary of a line: its two ends unless it is closed (OGC mod-2 rule for several lines). */
function lineEnds(lines: Position[][]): Position[] {
  const counts = new Map<string, { p: Position; n: number }>();
  for (const line of lines) {
    if (line.length < 2 || same(line[0]!, line[line.length - 1]!)) continue;
    for (const end of [line[0]!, line[line.length - 1]!]) {
      const key = `${end[0]},${end[1]}`;
      const c = counts.get(key) ?? { p: end, n: 0 };
      c.n++;
      counts.set(key, c);
    }
  }
  return [...counts.values()].filter((c) => c.n % 2 === 1).map((c) => c.p);
}

function linesPlace(p: Position, lines: Position[][]): Place {
  if (lineEnds(lines).some((e) => same(e, p))) return 'boundary';
  for (const line of lines) for (let i = 1; i < line.length; i++) if (onSegment(p, line[i - 1]!, line[i]!)) return 'interior';
  return 'exterior';
}

/** The place of point p relative to geometry g. */
export function placeOf(p: Position, g: Geometry): Place {
  switch (g.type) {
    case 'Point': return same(p, g.coordinates) ? 'interior' : 'exterior';
    case 'MultiPoint': return g.coordinates.some((c) => same(p, c)) ? 'interior' : 'exterior';
    case 'LineString': return linesPlace(p, [g.coordinates]);
    case 'MultiLineString': return linesPlace(p, g.coordinates);
    case 'Polygon': return polygonPlace(p, g.coordinates);
    case 'MultiPolygon': {
      // Polygons of a valid MultiPolygon touch at most in points: a point on one's boundary is on the whole's.
      let place: Place = 'exterior';
      for (const poly of g.coordinates) {
        const q = polygonPlace(p, poly);
        if (q === 'interior') return 'interior';
        if (q === 'boundary') place = 'boundary';
      }
      return place;
    }
    case 'GeometryCollection':
      throw queryError('spatial relations with a GEOMETRYCOLLECTION are not implemented; send its parts as a MULTI… geometry', undefined, undefined, 501);
  }
}

function dimension(g: Geometry): 0 | 1 | 2 {
  if (g.type === 'Point' || g.type === 'MultiPoint') return 0;
  if (g.type === 'LineString' || g.type === 'MultiLineString') return 1;
  return 2;
}

/** Does g consist of p alone (a point, or a multipoint of copies of it)? */
function onlyPoint(p: Position, g: Geometry): boolean {
  if (g.type === 'Point') return same(p, g.coordinates);
  if (g.type === 'MultiPoint') return g.coordinates.length > 0 && g.coordinates.every((c) => same(p, c));
  return false;
}

/** Does g have a boundary point other than p? */
function boundaryBeyond(p: Position, g: Geometry): Dim {
  switch (g.type) {
    case 'Point': case 'MultiPoint': return 'F';
    case 'LineString': return lineEnds([g.coordinates]).some((e) => !same(e, p)) ? '0' : 'F';
    case 'MultiLineString': return lineEnds(g.coordinates).some((e) => !same(e, p)) ? '0' : 'F';
    default: return '1';
  }
}

/** The DE-9IM matrix of point p (first) against geometry g (second), row by row: I, B, E of p. */
export function pointMatrix(p: Position, g: Geometry): Dim[] {
  const place = placeOf(p, g);
  const d = String(dimension(g)) as Dim;
  return [
    place === 'interior' ? '0' : 'F', place === 'boundary' ? '0' : 'F', place === 'exterior' ? '0' : 'F',
    'F', 'F', 'F',
    onlyPoint(p, g) ? 'F' : d, boundaryBeyond(p, g), '2',
  ];
}

function transpose(m: Dim[]): Dim[] {
  return [m[0]!, m[3]!, m[6]!, m[1]!, m[4]!, m[7]!, m[2]!, m[5]!, m[8]!];
}

export function matches(matrix: Dim[], pattern: string): boolean {
  return [...pattern].every((c, i) => {
    const v = matrix[i]!;
    if (c === '*') return true;
    if (c === 'T' || c === 't') return v !== 'F';
    if (c === 'F' || c === 'f') return v === 'F';
    return v === c;
  });
}

export const RELATIONS = ['st_equals', 'st_disjoint', 'st_touches', 'st_within', 'st_overlaps', 'st_crosses', 'st_intersects', 'st_contains', 'geo.intersects'] as const;
export type Relation = (typeof RELATIONS)[number];

/**
 * relation(a, b) where one side is the point p. `pointFirst`: p is a, the geometry b;
 * otherwise g is a and p is b. Definitions from the DE-9IM patterns of OGC 06-103r4.
 */
export function relate(relation: Relation | { pattern: string }, p: Position, g: Geometry, pointFirst: boolean): boolean {
  const m = pointFirst ? pointMatrix(p, g) : transpose(pointMatrix(p, g));
  if (typeof relation === 'object') {
    if (!/^[TF*012]{9}$/i.test(relation.pattern)) throw queryError(`st_relate: '${relation.pattern}' is not a DE-9IM pattern of nine characters from T F * 0 1 2`);
    return matches(m, relation.pattern);
  }
  const dimA = pointFirst ? 0 : dimension(g);
  const dimB = pointFirst ? dimension(g) : 0;
  switch (relation) {
    case 'st_equals': return matches(m, 'T*F**FFF*');
    case 'st_disjoint': return matches(m, 'FF*FF****');
    case 'st_intersects': case 'geo.intersects': return !matches(m, 'FF*FF****');
    case 'st_touches': return matches(m, 'FT*******') || matches(m, 'F**T*****') || matches(m, 'F***T****');
    case 'st_within': return matches(m, 'T*F**F***');
    case 'st_contains': return matches(m, 'T*****FF*');
    case 'st_crosses':
      if (dimA < dimB) return matches(m, 'T*T******');
      if (dimA > dimB) return matches(m, 'T*****T**');
      return dimA === 1 && matches(m, '0********');
    case 'st_overlaps':
      if (dimA !== dimB) return false;
      return dimA === 1 ? matches(m, '1*T***T**') : matches(m, 'T*T***T**');
  }
}

function segmentDistance(p: Position, a: Position, b: Position): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? 0 : ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

function linesDistance(p: Position, lines: Position[][]): number {
  let d = Number.POSITIVE_INFINITY;
  for (const line of lines) {
    if (line.length === 1) d = Math.min(d, Math.hypot(p[0] - line[0]![0], p[1] - line[0]![1]));
    for (let i = 1; i < line.length; i++) d = Math.min(d, segmentDistance(p, line[i - 1]!, line[i]!));
  }
  return d;
}

/** geo.distance(p, g): planar distance in degrees, 0 where they intersect. */
export function distance(p: Position, g: Geometry): number {
  switch (g.type) {
    case 'Point': return Math.hypot(p[0] - g.coordinates[0], p[1] - g.coordinates[1]);
    case 'MultiPoint': return Math.min(...g.coordinates.map((c) => Math.hypot(p[0] - c[0], p[1] - c[1])));
    case 'LineString': return linesDistance(p, [g.coordinates]);
    case 'MultiLineString': return linesDistance(p, g.coordinates);
    case 'Polygon': return polygonPlace(p, g.coordinates) === 'exterior' ? linesDistance(p, g.coordinates) : 0;
    case 'MultiPolygon': return Math.min(...g.coordinates.map((poly) => (polygonPlace(p, poly) === 'exterior' ? linesDistance(p, poly) : 0)));
    case 'GeometryCollection': return Math.min(...g.geometries.map((x) => distance(p, x)));
  }
}

/** geo.length(g): length of its lines in degrees (points and polygons: 0, as ST_Length). */
export function length(g: Geometry): number {
  const line = (c: Position[]): number => c.slice(1).reduce((s, q, i) => s + Math.hypot(q[0] - c[i]![0], q[1] - c[i]![1]), 0);
  switch (g.type) {
    case 'LineString': return line(g.coordinates);
    case 'MultiLineString': return g.coordinates.reduce((s, c) => s + line(c), 0);
    case 'GeometryCollection': return g.geometries.reduce((s, x) => s + length(x), 0);
    default: return 0;
  }
}

/** The bounding box [minX, minY, maxX, maxY] of g: points outside cannot intersect it. */
export function bbox(g: Geometry): [number, number, number, number] {
  const all: Position[] = [];
  const walk = (x: Geometry): void => {
    switch (x.type) {
      case 'Point': all.push(x.coordinates); break;
      case 'MultiPoint': case 'LineString': all.push(...x.coordinates); break;
      case 'MultiLineString': case 'Polygon': for (const c of x.coordinates) all.push(...c); break;
      case 'MultiPolygon': for (const poly of x.coordinates) for (const c of poly) all.push(...c); break;
      case 'GeometryCollection': x.geometries.forEach(walk); break;
    }
  };
  walk(g);
  return [Math.min(...all.map((c) => c[0])), Math.min(...all.map((c) => c[1])), Math.max(...all.map((c) => c[0])), Math.max(...all.map((c) => c[1]))];
}

/** GeoJSON of a point, as Locations and FeaturesOfInterest show it. */
export function pointJson(longitude: number, latitude: number): { type: 'Point'; coordinates: [number, number] } {
  return { type: 'Point', coordinates: [longitude, latitude] };
}
