/**
 * Well-known text (OGC 06-103r4 §7) → geometry, for geography'…' literals in $filter:
 * POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON and
 * GEOMETRYCOLLECTION, in 2D (a Z or M ordinate is read and dropped), with an optional
 * "SRID=4326;" prefix. Coordinates are "x y" = longitude latitude. Errors name the
 * character position inside the WKT.
 */
import type { Geometry, Position } from '../../storage/index.js';

export class WktError extends Error {
  constructor(message: string, readonly pos: number) {
    super(message);
  }
}

/** At most this many coordinates in one literal: a query is not an upload. */
const MAX_POINTS = 100_000;

export function parseWkt(text: string): Geometry {
  let i = 0;
  let points = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (ch: string): void => {
    ws();
    if (text[i] !== ch) throw new WktError(`expected '${ch}'${i < text.length ? ` but found '${text[i]}'` : ' but the text ended'}`, i);
    i++;
  };
  const peek = (ch: string): boolean => {
    ws();
    return text[i] === ch;
  };
  const word = (): string => {
    ws();
    const m = /^[A-Za-z]+/.exec(text.slice(i));
    if (!m) throw new WktError('expected a geometry type (POINT, LINESTRING, POLYGON, MULTI…)', i);
    i += m[0].length;
    return m[0].toUpperCase();
  };
  const number = (): number => {
    ws();
    const m = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) throw new WktError('expected a number', i);
    i += m[0].length;
    const n = Number(m[0]);
    if (!Number.isFinite(n)) throw new WktError('number out of range', i - m[0].length);
    return n;
  };
  const position = (): Position => {
    const at = i;
    const x = number();
    const y = number();
    ws();
    // A third or fourth ordinate (Z, M) is accepted and ignored.
    if (/^[+-]?[\d.]/.test(text.slice(i))) number();
    ws();
    if (/^[+-]?[\d.]/.test(text.slice(i))) number();
    if (++points > MAX_POINTS) throw new WktError(`more than ${MAX_POINTS} coordinates`, at);
    return [x, y];
  };
  const list = <T>(item: () => T): T[] => {
    expect('(');
    const out = [item()];
    while (peek(',')) {
      i++;
      out.push(item());
    }
    expect(')');
    return out;
  };
  const line = (min: number, what = 'a line'): Position[] => {
    const at = i;
    const coords = list(position);
    if (coords.length < min) throw new WktError(`${what} needs at least ${min} points`, at);
    return coords;
  };
  const ring = (): Position[] => {
    ws();
    const at = i;
    const coords = line(4, 'a polygon ring');
    const [first, last] = [coords[0]!, coords[coords.length - 1]!];
    if (first[0] !== last[0] || first[1] !== last[1]) throw new WktError('a polygon ring must end where it starts', at);
    return coords;
  };
  const geometry = (): Geometry => {
    const start = i;
    let type = word();
    ws();
    // "POINT Z (…)", "POINTZ", "POINT M (…)": the extra ordinates are dropped.
    const dims = /^(ZM|Z|M)\b/i.exec(text.slice(i));
    if (dims) i += dims[0].length;
    type = type.replace(/(ZM|Z|M)$/, (m) => (['POINT', 'LINESTRING', 'POLYGON', 'MULTIPOINT', 'MULTILINESTRING', 'MULTIPOLYGON', 'GEOMETRYCOLLECTION'].includes(type) ? m : ''));
    if (/^EMPTY\b/i.test(text.slice(i).trimStart())) throw new WktError(`${type} EMPTY has no position to compare with`, i);
    switch (type) {
      case 'POINT': {
        expect('(');
        const p = position();
        expect(')');
        return { type: 'Point', coordinates: p };
      }
      case 'LINESTRING': return { type: 'LineString', coordinates: line(2) };
      case 'POLYGON': return { type: 'Polygon', coordinates: list(ring) };
      case 'MULTIPOINT':
        // Both MULTIPOINT((1 2), (3 4)) and MULTIPOINT(1 2, 3 4) are in use.
        return {
          type: 'MultiPoint',
          coordinates: list(() => {
            if (peek('(')) {
              i++;
              const p = position();
              expect(')');
              return p;
            }
            return position();
          }),
        };
      case 'MULTILINESTRING': return { type: 'MultiLineString', coordinates: list(() => line(2)) };
      case 'MULTIPOLYGON': return { type: 'MultiPolygon', coordinates: list(() => list(ring)) };
      case 'GEOMETRYCOLLECTION': return { type: 'GeometryCollection', geometries: list(geometry) };
      default: throw new WktError(`${type} is not a WKT geometry type`, start);
    }
  };
  ws();
  const srid = /^SRID=(\d+);/i.exec(text.slice(i));
  if (srid) {
    if (srid[1] !== '4326') throw new WktError(`SRID ${srid[1]} is not supported: positions are WGS84 (SRID 4326)`, i);
    i += srid[0].length;
  }
  const g = geometry();
  ws();
  if (i < text.length) throw new WktError(`unexpected text after the geometry`, i);
  return g;
}
