import { describe, expect, it } from 'vitest';
import { decodeCayenneLpp } from './cayenne-lpp.js';

const t = new Date('2026-11-24T10:00:00Z');
const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

// Vectors: the worked examples of the Cayenne Low Power Payload documentation (myDevices),
// "Device with 2 temperature sensors", "Same device with 1 temperature sensor", "Device with temperature and acceleration"
// and "GPS" (42.3519 N, -87.9094 E, 10 m).
describe('Cayenne LPP', () => {
  it('decodes two temperature sensors into two channels', () => {
    const r = decodeCayenneLpp(hex('03 67 01 10 05 67 00 FF'), t);
    expect(r.errors).toEqual([]);
    expect(r.decoded).toEqual({ temperatureSensor: { '3': 27.2, '5': 25.5 } });
    expect(r.readings).toEqual([
      { metric: 'temperature', channel: 'lpp=3', value: 27.2, unit: 'Cel', quality: 'ok', time: t },
      { metric: 'temperature', channel: 'lpp=5', value: 25.5, unit: 'Cel', quality: 'ok', time: t },
    ]);
  });

  it('decodes negative temperatures and acceleration', () => {
    const r = decodeCayenneLpp(hex('01 67 FF D7 06 71 04 D2 FB 2E 00 00'), t);
    expect(r.decoded).toEqual({ temperatureSensor: { '1': -4.1 }, accelerometer: { '6': { x: 1.234, y: -1.234, z: 0 } } });
    expect(r.readings.map((x) => x.value)).toEqual([-4.1]);
  });

  it('decodes a GPS location', () => {
    const r = decodeCayenneLpp(hex('01 88 06 76 5f f2 96 0a 00 03 e8'), t);
    expect(r.decoded).toEqual({ gpsLocation: { '1': { latitude: 42.3519, longitude: -87.9094, altitude: 10 } } });
  });

  it('maps humidity and barometer to catalog metrics', () => {
    const r = decodeCayenneLpp(hex('02 68 61 04 73 27 94'), t);
    expect(r.readings.map((x) => [x.metric, x.value, x.unit])).toEqual([['relative_humidity', 48.5, '%'], ['pressure', 1013.2, 'hPa']]);
  });

  it('flags an implausible value instead of storing it as good', () => {
    const r = decodeCayenneLpp(hex('01 67 0F A0'), t); // 400.0 °C
    expect(r.readings[0]).toMatchObject({ metric: 'temperature', value: 400, quality: 'out_of_range' });
  });

  it('reports truncated and unknown items as errors with no readings', () => {
    expect(decodeCayenneLpp(hex('03 67 01'), t)).toMatchObject({ readings: [], errors: ['truncated LPP temperatureSensor on channel 3'] });
    expect(decodeCayenneLpp(hex('03 99 01'), t).errors[0]).toMatch(/unknown LPP type 0x99/);
  });
});
