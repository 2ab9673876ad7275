/** The MQTT writer of Observations writes the same JSON as GET's serialiser. */
import { describe, expect, it } from 'vitest';
import { ENTITY_TYPES, emptyOptions } from '../../storage/index.js';
import { entityText, ObservationEncoder } from './serialize.js';

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
