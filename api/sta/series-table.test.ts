import { describe, expect, it } from 'vitest';
import { datastreamId } from '../../storage/sta/ids.js';
import { SeriesTable } from './series-table.js';

describe('SeriesTable: the series an MQTT publisher knows, in flat arrays', () => {
  it('finds a series by asset, metric and channel, with its raw Datastream id and catalogue key', () => {
    const t = new SeriesTable();
    const a = t.add('lamp-1', 'temperature', 'lpp=3', '0004a30b001c0901', 1_800_000_000_000);
    const b = t.add('lamp-1', 'temperature', '', '0004a30b001c0901', 1_800_000_000_500);
    expect(t.find('lamp-1', 'temperature', 'lpp=3')).toBe(a);
    expect(t.find('lamp-1', 'temperature', '')).toBe(b);
    expect(t.find('lamp-2', 'temperature', '')).toBe(-1);
    expect(t.find('lamp-1', 'pm10', '')).toBe(-1);
    expect(t.datastreamId(a)).toBe(datastreamId('raw', 'lamp-1', 'temperature', 'lpp=3'));
    expect(t.key(b)).toEqual({ assetId: 'lamp-1', metric: 'temperature', channel: '', devEui: '0004a30b001c0901', firstTime: new Date(1_800_000_000_500) });
    expect(t.size).toBe(2);
  });

  it('reports a change only for an older first reading or another device', () => {
    const t = new SeriesTable();
    const s = t.add('bay-7', 'occupied', '', 'aa', 2_000);
    expect(t.update(s, 'aa', 3_000)).toBe(false);
    expect(t.update(s, 'aa', 1_000)).toBe(true);
    expect(t.update(s, 'bb', 5_000)).toBe(true);
    expect(t.key(s)).toMatchObject({ devEui: 'bb', firstTime: new Date(1_000) });
  });

  it('grows past its first capacity', () => {
    const t = new SeriesTable();
    const slots = Array.from({ length: 5000 }, (_, i) => t.add(`a-${i % 700}`, `m${i}`, i % 3 === 0 ? `c${i}` : '', `d${i % 50}`, i));
    expect(new Set(slots).size).toBe(5000);
    for (let i = 0; i < 5000; i += 97) expect(t.key(slots[i]!)).toEqual({ assetId: `a-${i % 700}`, metric: `m${i}`, channel: i % 3 === 0 ? `c${i}` : '', devEui: `d${i % 50}`, firstTime: new Date(i) });
    expect(t.size).toBe(5000);
  });
});
