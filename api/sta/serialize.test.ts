/** The MQTT writer of Observations writes the same JSON as GET's serialiser. */
import { describe, expect, it } from 'vitest';
import { ENTITY_TYPES, emptyOptions } from '../../storage/index.js';
import { entityText, ObservationEncoder, observationText, pageBytes } from './serialize.js';

const links = { base: 'https://daten.example.org/sta/v1.1', licence: { id: 'dl-de/by-2-0', name: 'n', url: 'u' }, attribution: 'Stadt' };

describe('ObservationEncoder', () => {
  it.each([
    [1790812800123, 12.25, 'ok'],
    [1790812800000, -0.5, 'ok'],
    [1790812800999, 5000, 'out_of_range'],
    [-1500, 3, 'ok'],
  ])('writes a reading at %i ms, value %d, %s, as entityText does', (ms, value, quality) => {
    const ds = 3119887720082649;
    const row = { datastream_id: ds, level: 'raw', asset_id: 'lamp-7', t0: ms * 1000, t1: ms * 1000, result_time: ms * 1000, value, quality, result_quality: quality === 'ok' ? null : quality, parameters: null };
    expect(new ObservationEncoder(links, ds).payload(ms, value, quality).toString()).toBe(entityText(ENTITY_TYPES.Observation, row, emptyOptions(), links, true));
  });
});

describe('observationText', () => {
  const ds = 3119887720082649;
  const raw = (micros: number, value: unknown, quality: string | null) => ({ datastream_id: ds, level: 'raw', asset_id: 'lamp-7', t0: micros, t1: micros, result_time: micros, value, quality: quality ?? 'ok', result_quality: quality, parameters: null });
  it.each([
    ['a reading', raw(1790812800123000, 12.25, null)],
    ['a reading with microseconds', raw(1790812800123456, -0.5, null)],
    ['a reading before 1970', raw(-1500123, 3, null)],
    ['a reading of quality out_of_range', raw(1790812800999000, 5000, 'out_of_range')],
    ['a reading without a value', raw(1790812800000000, null, null)],
    ['an hourly mean', { datastream_id: ds, level: 'hour', asset_id: 'lamp-7', t0: 1790812800000000, t1: 1790816400000000, result_time: null, value: 7.125, quality: 'ok', result_quality: null, parameters: { min: 1, max: 9.5, count: 4 } }],
  ])('writes %s as entityText does', (_name, row) => {
    expect(observationText(row, links)).toBe(entityText(ENTITY_TYPES.Observation, row, emptyOptions(), links, true));
  });

  it('escapes the service root as entityText does', () => {
    const odd = { ...links, base: 'https://daten.example.org/sta "v1.1"\\' };
    const row = raw(1790812800123000, 1, null);
    expect(observationText(row, odd)).toBe(entityText(ENTITY_TYPES.Observation, row, emptyOptions(), odd, true));
  });
});

describe('times', () => {
  it('writes Observation times as Date.prototype.toISOString does, across days, years and 1970 (as far as epoch microseconds are exact numbers)', () => {
    const links2 = { ...links, base: 'b' };
    const starts = [Date.UTC(2026, 9, 1), Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(1969, 11, 31, 23, 59, 59, 1), 0, -1, Date.UTC(2254, 11, 31), Date.UTC(1700, 0, 1)];
    for (const start of starts) {
      for (const step of [0, 1, 9, 10, 99, 100, 999, 61_001, 3_599_999, 86_399_999, 86_400_000]) {
        const ms = start + step;
        const row = { datastream_id: 1, level: 'raw', asset_id: 'a', t0: ms * 1000, t1: ms * 1000, result_time: ms * 1000, value: 1, quality: 'ok', result_quality: null, parameters: null };
        expect(JSON.parse(observationText(row, links2)).phenomenonTime).toBe(new Date(ms).toISOString());
      }
    }
  });
});

describe('pageBytes', () => {
  const parse = (b: Buffer) => JSON.parse(b.toString('utf8')) as { value: unknown[] };
  it('writes the head and every row as the joined text would, growing past its first estimate', () => {
    const texts = Array.from({ length: 50 }, (_, i) => JSON.stringify({ i, s: 'x'.repeat(i * 200), u: 'Düsseldorf €' }));
    const rows = texts.map((t) => ({ t }));
    const bytes = pageBytes('{"@iot.count":50,"@iot.nextLink":"https://a/b?$skiptoken=1~2~3"}', rows, (r) => r.t as string);
    expect(bytes.toString('utf8')).toBe(`{"@iot.count":50,"@iot.nextLink":"https://a/b?$skiptoken=1~2~3","value":[${texts.join(',')}]}`);
    expect(parse(bytes).value).toHaveLength(50);
  });

  it('writes an empty page and a page without head members', () => {
    expect(pageBytes('{}', [], () => '').toString()).toBe('{"value":[]}');
    expect(pageBytes('{}', [{}], () => '{"a":"ü"}').toString()).toBe('{"value":[{"a":"ü"}]}');
  });
});
