import { describe, expect, it } from 'vitest';
import { encodeAir, decodeAir } from './stadtfunk-air.js';
import { encodeParking, decodeParking } from './stadtfunk-parking.js';
import { encodeStreetlight, decodeStreetlight } from './stadtfunk-streetlight.js';
import { encodeTraffic, decodeTraffic } from './stadtfunk-traffic.js';
import { encodeWater, decodeWater } from './stadtfunk-water.js';

const t = new Date('2026-11-24T07:30:00Z');
const byMetric = (r: { readings: { metric: string; channel: string; value: number; quality: string }[] }) =>
  Object.fromEntries(r.readings.map((x) => [x.channel ? `${x.metric}@${x.channel}` : x.metric, x.value]));

// Layouts: the tables at the top of each stadtfunk-*.ts (this project's own reference formats).
describe('stadtfunk reference formats', () => {
  it('air: fixed vector decodes field by field', () => {
    // v1 | pm1 8.3 | pm2.5 12.4 | pm10 20.1 | no2 38.5 | co2 415 | 7.25 °C | 81 % | 1013.2 hPa | 55.5 dB | 3.6 V
    const bytes = Buffer.from('01' + '0053' + '007c' + '00c9' + '0181' + '019f' + '02d5' + 'a2' + '2794' + '6f' + '0e10', 'hex');
    expect(byMetric(decodeAir(bytes, t))).toEqual({
      pm1: 8.3, pm2_5: 12.4, pm10: 20.1, no2: 38.5, co2: 415, temperature: 7.25, relative_humidity: 81, pressure: 1013.2, noise: 55.5, battery_voltage: 3.6,
    });
    expect(encodeAir({ pm1: 8.3, pm2_5: 12.4, pm10: 20.1, no2: 38.5, co2: 415, temperature: 7.25, relative_humidity: 81, pressure: 1013.2, noise: 55.5, battery_voltage: 3.6 })).toEqual(bytes);
  });

  it('air: an absent sensor gives no reading, a negative temperature survives', () => {
    const r = decodeAir(encodeAir({ pm1: null, pm2_5: 3, pm10: null, no2: null, co2: null, temperature: -12.5, relative_humidity: null, pressure: null, noise: null, battery_voltage: null }), t);
    expect(byMetric(r)).toEqual({ pm2_5: 3, temperature: -12.5 });
  });

  it('parking: bay occupied, faulty bay unknown, garage counter', () => {
    expect(encodeParking({ kind: 'bay', occupied: true, fault: false, battery_voltage: 3.3 }).toString('hex')).toBe('0101010ce4');
    expect(byMetric(decodeParking(Buffer.from('0101010ce4', 'hex'), t))).toEqual({ occupied: 1, battery_voltage: 3.3 });
    expect(byMetric(decodeParking(encodeParking({ kind: 'bay', occupied: true, fault: true, battery_voltage: null }), t))).toEqual({});
    expect(byMetric(decodeParking(Buffer.from('0102002a0190', 'hex'), t))).toEqual({ free_spaces: 42, total_spaces: 400 });
  });

  it('traffic: counts per lane, direction and class on their own channels', () => {
    const values = {
      intervalS: 300, occupancyPercent: 12,
      counts: [
        { lane: 1, direction: 'in' as const, vehicleClass: 'car' as const, count: 87, avgSpeedKmh: 43 },
        { lane: 1, direction: 'in' as const, vehicleClass: 'truck' as const, count: 4, avgSpeedKmh: null },
      ],
    };
    const bytes = encodeTraffic(values);
    expect(bytes.toString('hex')).toBe('01012c0c02' + '010000' + '0057' + '2b' + '010001' + '0004' + 'ff');
    expect(byMetric(decodeTraffic(bytes, t))).toEqual({
      count_interval: 300, traffic_occupancy: 12,
      'vehicle_count@lane=1;direction=in;class=car': 87, 'avg_speed@lane=1;direction=in;class=car': 43,
      'vehicle_count@lane=1;direction=in;class=truck': 4,
    });
  });

  it('streetlight and water round trip', () => {
    const light = { lamp_on: true, dim_level: 40, power: 23.5, energy: 123456, voltage: 230.1 };
    expect(byMetric(decodeStreetlight(encodeStreetlight(light), t))).toEqual({ lamp_on: 1, dim_level: 40, power: 23.5, energy: 123456, voltage: 230.1 });
    expect(byMetric(decodeWater(encodeWater({ water_level: -35, battery_voltage: 3.61 }), t))).toEqual({ water_level: -35, battery_voltage: 3.61 });
  });

  it('reports a truncated payload or unknown version as an error with no readings', () => {
    expect(decodeAir(Buffer.from('0100', 'hex'), t)).toMatchObject({ readings: [], errors: [expect.stringMatching(/stadtfunk-air: payload ends at byte 2/)] });
    expect(decodeWater(Buffer.from('090000', 'hex'), t).errors).toEqual(['stadtfunk-water: unknown version 9']);
    expect(decodeTraffic(Buffer.from('01012c0c01010709000100', 'hex'), t).errors[0]).toMatch(/unknown direction or class/);
  });
});
