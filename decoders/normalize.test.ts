import { describe, expect, it } from 'vitest';
import { normalize, normalizeKey } from './normalize.js';

const t = new Date('2026-11-24T12:00:00Z');
const values = (r: ReturnType<typeof normalize>) => Object.fromEntries(r.readings.map((x) => [x.metric, x.value]));

describe('normalization of vendor output', () => {
  it('recognises the many spellings of one quantity', () => {
    for (const key of ['pm2_5', 'pm25', 'PM2_5', 'pm2.5', 'PM2.5']) {
      expect(values(normalize({ [key]: 9.5 }, undefined, t))).toEqual({ pm2_5: 9.5 });
    }
    expect(normalizeKey('PM2.5')).toBe('pm2_5');
  });

  it('reads nested {value, unit} objects and converts units', () => {
    const r = normalize({ pressure: { value: 101320, unit: 'Pa' }, temp: { value: 68, unit: 'F' }, battery_v: { value: 3600, unit: 'mV' } }, undefined, t);
    expect(values(r)).toEqual({ pressure: 1013.2, temperature: 20, battery_voltage: 3.6 });
  });

  it('turns booleans and on/off into 0/1 and "NoSensor" into no reading', () => {
    expect(values(normalize({ occupied: true, lamp_on: 'off', pm10: 'NoSensor' }, undefined, t))).toEqual({ occupied: 1, lamp_on: 0 });
  });

  it('follows a mapping with a channel and flags implausible values', () => {
    const r = normalize({ sensors: { a: { t: 400 } } }, [{ path: 'sensors.a.t', metric: 'temperature', channel: 'probe=a' }], t);
    expect(r.readings).toEqual([{ metric: 'temperature', channel: 'probe=a', value: 400, unit: 'Cel', quality: 'out_of_range', time: t }]);
  });

  it('warns about a unit it cannot convert instead of storing a wrong value', () => {
    const r = normalize({ p: 5 }, [{ path: 'p', metric: 'pressure', unit: 'psi' }], t);
    expect(r.readings).toEqual([]);
    expect(r.warnings[0]).toMatch(/no conversion from psi to hPa/);
  });
});
