/**
 * Point relations against OGC 06-103r4's DE-9IM definitions; the cases of FROST-Server.Tests
 * c03filtering/GeoTests for its point Locations (8 51) … (8 54).
 */
import { describe, expect, it } from 'vitest';
import type { Geometry } from './ast.js';
import { distance, length, pointMatrix, relate, type Relation } from './geometry.js';

const P: Geometry = { type: 'Polygon', coordinates: [[[7.5, 51.5], [7.5, 53.5], [8.5, 53.5], [8.5, 51.5], [7.5, 51.5]]] };
const TRI: Geometry = { type: 'Polygon', coordinates: [[[8, 53], [7.5, 54.5], [8.5, 54.5], [8, 53]]] };
const LINE: Geometry = { type: 'LineString', coordinates: [[7.5, 51], [7.5, 54]] };
const points: [number, number][] = [[8, 51], [8, 52], [8, 53], [8, 54]];
const which = (f: (p: [number, number]) => boolean): number[] => points.flatMap((p, i) => (f(p) ? [i] : []));

describe('relations of a point (GeoTests)', () => {
  it.each<[Relation | { pattern: string }, Geometry, boolean, number[]]>([
    ['st_contains', P, false, [1, 2]],
    ['st_within', P, true, [1, 2]],
    ['st_disjoint', P, false, [0, 3]],
    ['st_intersects', LINE, true, []],
    ['geo.intersects', P, true, [1, 2]],
    ['st_overlaps', P, false, []],
    ['st_crosses', { type: 'LineString', coordinates: [[7.5, 51.5], [7.5, 53.5]] }, false, []],
    ['st_touches', TRI, false, [2]],
    ['st_equals', { type: 'Point', coordinates: [8, 53] }, true, [2]],
    ['st_within', { type: 'Point', coordinates: [7.5, 52.75] }, false, []],
    [{ pattern: 'T********' }, P, false, [1, 2]],
    [{ pattern: 'FF*FF****' }, P, true, [0, 3]],
  ])('%j of %j (point first: %s)', (relation, g, pointFirst, expected) => {
    expect(which((p) => relate(relation, p, g, pointFirst))).toEqual(expected);
  });

  it('knows boundaries: polygon edges and holes, line ends, multipoint members', () => {
    const holed: Geometry = { type: 'Polygon', coordinates: [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]] };
    expect(relate('st_within', [5, 5], holed, true)).toBe(false);
    expect(relate('st_touches', [4, 5], holed, true)).toBe(true);
    expect(relate('st_within', [2, 2], holed, true)).toBe(true);
    const line: Geometry = { type: 'LineString', coordinates: [[0, 0], [2, 0], [2, 2]] };
    expect(relate('st_touches', [0, 0], line, true)).toBe(true);
    expect(relate('st_within', [2, 1], line, true)).toBe(true);
    expect(relate('st_within', [2, 0], line, true)).toBe(true);
    const closed: Geometry = { type: 'LineString', coordinates: [[0, 0], [1, 0], [1, 1], [0, 0]] };
    expect(relate('st_touches', [0, 0], closed, true)).toBe(false);
    // A point contains a multipoint of copies of itself.
    expect(relate('st_contains', [1, 1], { type: 'MultiPoint', coordinates: [[1, 1], [1, 1]] }, true)).toBe(true);
    expect(relate('st_contains', [1, 1], { type: 'MultiPoint', coordinates: [[1, 1], [2, 1]] }, true)).toBe(false);
  });

  it('writes the DE-9IM matrix of a point inside a polygon', () => {
    expect(pointMatrix([8, 52], P).join('')).toBe('0FFFFF212');
    expect(pointMatrix([8, 51], P).join('')).toBe('FF0FFF212');
    expect(pointMatrix([8, 53], { type: 'Point', coordinates: [8, 53] }).join('')).toBe('0FFFFFFF2');
  });
});

describe('distance and length', () => {
  it('measures in degrees, as PostGIS on SRID 4326 geometries', () => {
    expect(distance([8, 54], { type: 'Point', coordinates: [8, 54.1] })).toBeCloseTo(0.1, 12);
    expect(distance([8, 52], { type: 'LineString', coordinates: [[7, 52.5], [9, 52.5]] })).toBeCloseTo(0.5, 12);
    expect(distance([8, 52], P)).toBe(0);
    expect(distance([8, 51], P)).toBeCloseTo(0.5, 12);
    expect(length({ type: 'LineString', coordinates: [[5, 52], [5, 53]] })).toBe(1);
    expect(length(P)).toBe(0);
  });
});
