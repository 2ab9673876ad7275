/** WKT literals (OGC 06-103r4 §7) as geography'…' in $filter. */
import { describe, expect, it } from 'vitest';
import { parseWkt, WktError } from './wkt.js';

describe('parseWkt', () => {
  it('reads every geometry type, with Z ordinates and SRID dropped', () => {
    expect(parseWkt('POINT (30 10)')).toEqual({ type: 'Point', coordinates: [30, 10] });
    expect(parseWkt('point z (30 10 5)')).toEqual({ type: 'Point', coordinates: [30, 10] });
    expect(parseWkt('SRID=4326;LINESTRING(30 10, 10 30, 40 40)')).toEqual({ type: 'LineString', coordinates: [[30, 10], [10, 30], [40, 40]] });
    expect(parseWkt('POLYGON ((35 10, 45 45, 15 40, 10 20, 35 10), (20 30, 35 35, 30 20, 20 30))').type).toBe('Polygon');
    expect(parseWkt('MULTIPOINT ((10 40), (40 30))')).toEqual({ type: 'MultiPoint', coordinates: [[10, 40], [40, 30]] });
    expect(parseWkt('MULTIPOINT (10 40, 40 30)')).toEqual({ type: 'MultiPoint', coordinates: [[10, 40], [40, 30]] });
    expect(parseWkt('MULTILINESTRING ((10 10, 20 20), (40 40, 30 30))').type).toBe('MultiLineString');
    expect(parseWkt('MULTIPOLYGON (((30 20, 45 40, 10 40, 30 20)), ((15 5, 40 10, 10 20, 5 10, 15 5)))').type).toBe('MultiPolygon');
    expect(parseWkt('GEOMETRYCOLLECTION (POINT (40 10), LINESTRING (10 10, 20 20))').type).toBe('GeometryCollection');
    expect(parseWkt('POINT(-1.5e1 .5)')).toEqual({ type: 'Point', coordinates: [-15, 0.5] });
  });
  it.each([
    ['POINT', 5],
    ['POINT()', 6],
    ['POINT(1 2', 9],
    ['POINT(1 2) x', 11],
    ['LINESTRING(1 2)', 10],
    ['POLYGON((0 0, 1 0, 1 1, 0 1))', 8],
    ['POLYGON((0 0, 1 1, 0 0))', 8],
    ['CIRCLE(1 2)', 0],
    ['POINT EMPTY', 6],
    ['SRID=3857;POINT(1 2)', 0],
    ['POINT(1e999 2)', 6],
  ])('%s fails at %i', (text, pos) => {
    expect(() => parseWkt(text)).toThrow(WktError);
    try {
      parseWkt(text);
    } catch (e) {
      expect((e as WktError).pos).toBe(pos);
    }
  });
});
