/** The fast Observation text is the same JSON as the general serialiser writes. */
import { describe, expect, it } from 'vitest';
import { ENTITY_TYPES, emptyOptions, type Row } from '../../storage/index.js';
import { entityJson, entityText, observationText } from './serialize.js';

const links = { base: 'https://daten.example.org/sta/v1.1', licence: { id: 'dl-de/by-2-0', name: 'n', url: 'u' }, attribution: 'Stadt' };
const raw: Row = { datastream_id: 3119887720082649, level: 'raw', asset_id: 'lamp-7', t0: 1790812800123000, t1: 1790812800123000, result_time: 1790812800123000, value: 12.25, quality: 'ok', result_quality: null, parameters: null };

describe('observationText', () => {
  it.each<[string, Row]>([
    ['a reading', raw],
    ['a reading out of range, with microseconds', { ...raw, t0: 1790812800123456, t1: 1790812800123456, result_time: 1790812800123456, value: 5000, quality: 'out_of_range', result_quality: 'out_of_range' }],
    ['an hourly mean', { ...raw, level: 'hour', t0: 1790812800000000, t1: 1790816400000000, result_time: null, value: 840.6666666666666, parameters: { max: 5000, min: 6, count: 6 } }],
    ['a reading before 1970', { ...raw, t0: -1500, t1: -1500, result_time: -1500, value: -0.5 }],
  ])('writes %s as entityJson does', (_name, row) => {
    const expected = JSON.stringify(entityJson(ENTITY_TYPES.Observation, row, emptyOptions(), links, true));
    expect(observationText(row, links)).toBe(expected);
    expect(entityText(ENTITY_TYPES.Observation, row, emptyOptions(), links, true)).toBe(expected);
  });
});
