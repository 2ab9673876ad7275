/**
 * Vendor output shapes → readings, without a mapping. Each codec below is our own, small,
 * and gives the output of one vendor codec for that vendor's published example: the
 * example (bytes and expected output) is taken as a test vector from The Things Network
 * device repository, TheThingsNetwork/lorawan-devices at 369ca3e1864d (a fork's copy of
 * July 2024), file named per case. Each case first passes the exact examples gate, then
 * its readings are checked: metric, channel, value in the catalog unit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCodecExamples } from './codec-examples.js';
import { CodecRunner } from './codec-runner.js';
import { DEFAULT_CODEC_LIMITS } from './codec-sandbox.js';
import { readingsOf } from './index.js';
import { proposeMapping } from './builtin-mapping.js';
import type { ModelCategory } from './types.js';

const u16 = 'function u16(b, i) { return (b[i] << 8) | b[i + 1]; }';
interface Case {
  vendor: string;
  category: ModelCategory | null;
  codec: string;
  fPort: number;
  bytes: number[];
  output: Record<string, unknown>;
  readings: [metric: string, channel: string, value: number, unit: string][];
  left?: RegExp[];
}

const cases: Case[] = [
  {
    vendor: 'Dingtek DC500 people counter (vendor/dingtek/dc500-codec.yaml)', category: null,
    codec: `${u16} function decodeUplink(input) { var b = input.bytes; return { data: { peopleCounter: u16(b, 5), alarmCounter: b[8] === 1, alarmBattery: b[7] === 1, volt: u16(b, 9) / 100, frameCounter: u16(b, 17) } }; }`,
    fPort: 3, bytes: [0x80, 0x00, 0x02, 0x01, 0x15, 0x01, 0x01, 0x01, 0x00, 0x01, 0x6f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x81],
    output: { data: { peopleCounter: 257, alarmCounter: false, alarmBattery: true, volt: 3.67, frameCounter: 1 } },
    readings: [['people_count_total', '', 257, '{persons}'], ['battery_voltage', '', 3.67, 'V']],
  },
  {
    vendor: 'Dingtek DC520 in/out counter (vendor/dingtek/dc520-codec.yaml)', category: null,
    codec: `${u16} function decodeUplink(input) { var b = input.bytes; return { data: { balanceCounter: u16(b, 5), inCounter: u16(b, 7), outCounter: u16(b, 9), alarmBalance: b[11], alarmIn: b[12], alarmOut: b[13], volt: b[14], alarmBattery: b[15], errorCode: b[16], frameCounter: b[17] } }; }`,
    fPort: 3, bytes: [0x80, 0x00, 0x52, 0x02, 0x13, 0x00, 0x01, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x01, 0x81],
    output: { data: { balanceCounter: 1, inCounter: 2, outCounter: 1, alarmBalance: 0, alarmIn: 0, alarmOut: 0, volt: 5, alarmBattery: 0, errorCode: 0, frameCounter: 1 } },
    readings: [['people_count_total', 'direction=in', 2, '{persons}'], ['people_count_total', 'direction=out', 1, '{persons}'], ['battery_voltage', '', 5, 'V']],
  },
  {
    vendor: 'Milesight VS133 counting lines (vendor/milesight-iot/vs133-codec.yaml)', category: 'people',
    codec: `function decodeUplink(input) { var b = input.bytes, d = {}; function u32(i) { return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24); }
      for (var i = 0; i < b.length;) { var ch = b[i], t = b[i + 1]; i += 2;
        if (t === 0xd2) { var line = 'line_' + (ch <= 4 ? 1 : 2); d[line] = d[line] || {}; d[line][ch === 3 || ch === 6 ? 'total_in' : 'total_out'] = u32(i); i += 4; }
        else if (t === 0xcc) { var l = 'line_' + (ch === 5 ? 1 : 2); d[l].period_in = b[i] | (b[i + 1] << 8); d[l].period_out = b[i + 2] | (b[i + 3] << 8); i += 4; }
        else break; }
      return { data: d }; }`,
    fPort: 85, bytes: [3, 210, 72, 0, 0, 0, 4, 210, 200, 0, 0, 0, 6, 210, 0, 0, 0, 0, 7, 210, 0, 0, 0, 0, 5, 204, 0, 0, 0, 0, 8, 204, 0, 0, 0, 0],
    output: { data: { line_1: { total_in: 72, total_out: 200, period_in: 0, period_out: 0 }, line_2: { total_in: 0, total_out: 0, period_in: 0, period_out: 0 } } },
    readings: [
      ['people_count_total', 'line=1;direction=in', 72, '{persons}'], ['people_count_total', 'line=1;direction=out', 200, '{persons}'],
      ['people_count', 'line=1;direction=in', 0, '{persons}'], ['people_count', 'line=1;direction=out', 0, '{persons}'],
      ['people_count_total', 'line=2;direction=in', 0, '{persons}'], ['people_count_total', 'line=2;direction=out', 0, '{persons}'],
      ['people_count', 'line=2;direction=in', 0, '{persons}'], ['people_count', 'line=2;direction=out', 0, '{persons}'],
    ],
  },
  {
    vendor: 'Nwave NCC405 car counter (vendor/nwave/ncc405-codec.yaml)', category: 'traffic',
    codec: `${u16} function decodeUplink(input) { return { data: { type: 'counter_update', counter_value: u16(input.bytes, 0) } }; }`,
    fPort: 1, bytes: [6, 170], output: { data: { type: 'counter_update', counter_value: 1706 } },
    readings: [['vehicle_count_total', '', 1706, '{vehicles}']],
  },
  {
    vendor: 'Paxcounter (vendor/opensource/esp32-paxcounter-codec.yaml)', category: null,
    codec: `function decodeUplink(input) { var b = input.bytes, w = b[0] | (b[1] << 8), l = b[2] | (b[3] << 8); return { data: { bytes: b, port: input.fPort, wifi: w, ble: l, pax: w + l }, errors: [], warnings: [] }; }`,
    fPort: 1, bytes: [7, 0, 3, 0], output: { data: { bytes: [7, 0, 3, 0], port: 1, wifi: 7, ble: 3, pax: 10 }, errors: [], warnings: [] },
    readings: [['people_count', '', 10, '{persons}']],
  },
  {
    vendor: 'Netvox R719A parking sensor (vendor/netvox/r719a-codec.yaml)', category: null,
    codec: `function decodeUplink(input) { var b = input.bytes; return { data: { Device: 'R719A', Volt: b[3] / 10, CarOnOff: b[4] } }; }`,
    fPort: 6, bytes: [1, 89, 1, 30, 1, 0, 0, 0, 0, 0, 0], output: { data: { Device: 'R719A', Volt: 3, CarOnOff: 1 } },
    readings: [['occupied', '', 1, '1'], ['battery_voltage', '', 3, 'V']],
  },
  {
    vendor: 'Nwave NPS405 parking sensor (vendor/nwave/nps405-codec.yaml)', category: 'parking',
    codec: `function decodeUplink(input) { var b = input.bytes[0]; return { data: { type: 'parking_status', occupied: (b & 1) === 1, previous_state_duration: b >> 1, previous_state_duration_error: 0, previous_state_duration_overflow: false } }; }`,
    fPort: 1, bytes: [149], output: { data: { type: 'parking_status', occupied: true, previous_state_duration: 74, previous_state_duration_error: 0, previous_state_duration_overflow: false } },
    readings: [['occupied', '', 1, '1']],
  },
  {
    vendor: 'Milesight VS340 occupancy (vendor/milesight-iot/vs340-codec.yaml)', category: 'parking',
    codec: `function decodeUplink(input) { var b = input.bytes; return { data: { battery: b[2], occupancy: b[5] === 1 ? 'occupied' : 'vacant' } }; }`,
    fPort: 85, bytes: [1, 117, 100, 3, 0, 1], output: { data: { battery: 100, occupancy: 'occupied' } },
    readings: [['battery_level', '', 100, '%'], ['occupied', '', 1, '1']],
  },
  {
    vendor: 'Dragino LAQ4 air quality (vendor/dragino/laq4-codec.yaml)', category: null,
    codec: `${u16} function decodeUplink(input) { var b = input.bytes; return { data: { Alarm_status: b[2] & 4 ? 'TRUE' : 'FALSE', Bat_V: u16(b, 0) / 1000, CO2_ppm: u16(b, 5), Hum_SHT: u16(b, 9) / 10, TVOC_ppb: u16(b, 3), TempC_SHT: u16(b, 7) / 10, Work_mode: 'CO2' } }; }`,
    fPort: 2, bytes: [13, 7, 5, 0, 18, 2, 11, 0, 251, 1, 179],
    output: { data: { Alarm_status: 'TRUE', Bat_V: 3.335, CO2_ppm: 523, Hum_SHT: 43.5, TVOC_ppb: 18, TempC_SHT: 25.1, Work_mode: 'CO2' } },
    readings: [['battery_voltage', '', 3.335, 'V'], ['co2', '', 523, '[ppm]'], ['relative_humidity', '', 43.5, '%'], ['temperature', '', 25.1, 'Cel']],
  },
  {
    vendor: 'Browan CD10 CO2 (vendor/browan/cd10-codec.yaml)', category: null,
    codec: `function decodeUplink(input) { var b = input.bytes; return { data: { status: b[0] & 1, button: (b[0] >> 1) & 1, co2threshold: (b[0] >> 4) & 1, co2calibration: (b[0] >> 5) & 1, battery: (21 + b[1]) / 10, temperature: b[2] / 10, humidity: b[4], co2_ppm: b[5] | (b[6] << 8) } }; }`,
    fPort: 127, bytes: [17, 15, 231, 0, 67, 7, 25],
    output: { data: { status: 1, button: 0, co2threshold: 1, co2calibration: 0, battery: 3.6, temperature: 23.1, humidity: 67, co2_ppm: 6407 } },
    readings: [['battery_voltage', '', 3.6, 'V'], ['temperature', '', 23.1, 'Cel'], ['relative_humidity', '', 67, '%'], ['co2', '', 6407, '[ppm]']],
  },
  {
    vendor: 'Elsys ELT-2 pressure in Pa without a unit (vendor/elsys/elt-2-codec.yaml)', category: null,
    codec: `function decodeUplink(input) { var b = input.bytes; return { data: { temperature: ((b[1] << 8) | b[2]) / 10, humidity: b[4], x: b[6], y: b[7], z: b[8], pressure: ((b[10] << 24) | (b[11] << 16) | (b[12] << 8) | b[13]) / 1000 } }; }`,
    fPort: 1, bytes: [1, 0, 226, 2, 41, 3, 1, 39, 5, 20, 6, 1, 1, 17],
    output: { data: { temperature: 22.6, humidity: 41, x: 1, y: 39, z: 5, pressure: 100729.105 } },
    readings: [['temperature', '', 22.6, 'Cel'], ['relative_humidity', '', 41, '%'], ['pressure', '', 1007.29105, 'hPa']],
  },
  {
    vendor: 'Decentlab DL-MBX level sensor (vendor/decentlab/dl-mbx-codec.yaml), category water', category: 'water',
    codec: `${u16} function decodeUplink(input) { var b = input.bytes; return { data: { battery_voltage: { displayName: 'Battery voltage', unit: 'V', value: u16(b, 9) / 1000 }, device_id: u16(b, 1), distance: { displayName: 'Distance', unit: 'mm', value: u16(b, 5) }, number_of_valid_samples: { displayName: 'Number of valid samples', value: u16(b, 7) }, protocol_version: b[0] } }; }`,
    fPort: 1, bytes: [2, 1, 47, 0, 3, 4, 210, 0, 1, 11, 177],
    output: { data: { battery_voltage: { displayName: 'Battery voltage', unit: 'V', value: 2.993 }, device_id: 303, distance: { displayName: 'Distance', unit: 'mm', value: 1234 }, number_of_valid_samples: { displayName: 'Number of valid samples', value: 1 }, protocol_version: 2 } },
    readings: [['battery_voltage', '', 2.993, 'V'], ['water_distance', '', 123.4, 'cm']],
  },
];

describe('vendor output shapes become readings without a mapping', () => {
  let runner: CodecRunner;
  beforeAll(() => {
    runner = new CodecRunner({ ...DEFAULT_CODEC_LIMITS, timeoutMs: 2000 });
  });
  afterAll(() => runner.close());

  it.each(cases.map((c) => [c.vendor, c] as const))('%s', async (_name, c) => {
    const [gate] = await runCodecExamples((s, input, o) => runner.decode(s, input, o), c.codec, [{ description: c.vendor, input: { fPort: c.fPort, bytes: c.bytes }, output: c.output }]);
    expect(gate).toMatchObject({ passed: true });
    const out = await runner.decode(c.codec, { bytes: Uint8Array.from(c.bytes), fPort: c.fPort, recvTime: new Date('2026-11-24T12:00:00Z') });
    if (!out.ok) throw new Error(out.error);
    const r = readingsOf({ id: 'm', decoder: { kind: 'codec', script: c.codec }, category: c.category }, out.data, out.normalized, new Date('2026-11-24T12:00:00Z'));
    const got = r.readings.map((x) => [x.metric, x.channel, Number(x.value.toFixed(6)), x.unit]);
    expect(new Set(got.map((g) => JSON.stringify(g)))).toEqual(new Set(c.readings.map((g) => JSON.stringify(g))));
    expect(r.readings.every((x) => x.quality === 'ok')).toBe(true);
  });
});

describe('what is left, and why', () => {
  it('leaves a distance of a model without a category, a gas without a unit, and a battery that could be volts or percent', () => {
    const p = proposeMapping({ distance: { value: 1234, unit: 'mm' }, NO2: 38, battery: 3, Volt: 303 }, null);
    expect(p.mapping).toEqual([]);
    expect(p.left).toEqual([
      { path: 'distance', reason: expect.stringMatching(/to water .* or to a car/) },
      { path: 'NO2', reason: expect.stringMatching(/ppb or µg\/m³ cannot be told apart/) },
      { path: 'battery', reason: expect.stringMatching(/volts or percent/) },
      { path: 'Volt', reason: expect.stringMatching(/V or mV cannot be told apart/) },
    ]);
  });

  it('converts a gas given in ppb, and reads occupancy only for parking models', () => {
    expect(proposeMapping({ no2_ppb: 20, o3: { value: 30, unit: 'ppb' } }, 'air').mapping).toEqual([{ path: 'no2_ppb', metric: 'no2', unit: '[ppb]' }, { path: 'o3', metric: 'o3', unit: '[ppb]' }]);
    expect(proposeMapping({ occupancy: 2 }, null).left[0]!.reason).toMatch(/not occupied\/free/);
    expect(proposeMapping({ occupancy: 'occupied' }, 'air').left[0]!.reason).toMatch(/air model is not parking occupancy/);
  });

  it('takes soil and board temperatures for no air temperature, and a counter of unknown things for nothing', () => {
    const p = proposeMapping({ soil_temperature: 12, mcu_temperature: 40, counter_value: 5 }, null);
    expect(p.mapping).toEqual([]);
    expect(p.left).toEqual([{ path: 'counter_value', reason: expect.stringMatching(/category people or traffic/) }]);
  });
});

describe('TS013 normalizeUplink', () => {
  it('gives readings in the catalog units without a mapping, indoor and outdoor apart, and wins over the vendor fields', async () => {
    // The shape of Dragino's normalizeUplink (vendor/dragino/…: two air measurements, indoor SHT and outdoor DS18B20 probe).
    const codec = `function decodeUplink(input) { var b = input.bytes; return { data: { TempC_SHT: b[0] / 10, Hum_SHT: b[1], TempC_DS: b[2] / 10, BatV: b[3] / 10, press_hPa: 1000 + b[4] } }; }
      function normalizeUplink(input) { return { data: [
        { air: { location: 'indoor', temperature: input.data.TempC_SHT, relativeHumidity: input.data.Hum_SHT, pressure: input.data.press_hPa, lightIntensity: 120 }, battery: input.data.BatV },
        { air: { location: 'outdoor', temperature: input.data.TempC_DS }, wind: { speed: 3.5, direction: 270 }, time: '2026-11-24T11:59:00Z' } ] }; }`;
    const runner = new CodecRunner({ ...DEFAULT_CODEC_LIMITS, timeoutMs: 2000 });
    try {
      const t = new Date('2026-11-24T12:00:00Z');
      const out = await runner.decode(codec, { bytes: Uint8Array.from([215, 40, 52, 36, 13]), fPort: 2, recvTime: t });
      if (!out.ok) throw new Error(out.error);
      const r = readingsOf({ id: 'm', decoder: { kind: 'codec', script: codec } }, out.data, out.normalized, t);
      expect(r.readings.map((x) => [x.metric, x.channel, x.value, x.unit, x.time.toISOString()])).toEqual([
        ['temperature', 'location=indoor', 21.5, 'Cel', t.toISOString()],
        ['relative_humidity', 'location=indoor', 40, '%', t.toISOString()],
        ['pressure', 'location=indoor', 1013, 'hPa', t.toISOString()],
        ['illuminance', 'location=indoor', 120, 'lx', t.toISOString()],
        ['battery_voltage', '', 3.6, 'V', t.toISOString()],
        ['temperature', 'location=outdoor', 5.2, 'Cel', '2026-11-24T11:59:00.000Z'],
        ['wind_speed', '', 3.5, 'm/s', '2026-11-24T11:59:00.000Z'],
        ['wind_direction', '', 270, 'deg', '2026-11-24T11:59:00.000Z'],
      ]);
      // A model's own mapping decides alone.
      const own = readingsOf({ id: 'm', decoder: { kind: 'codec', script: codec }, mapping: [{ path: 'TempC_DS', metric: 'temperature' }] }, out.data, out.normalized, t);
      expect(own.readings.map((x) => [x.metric, x.value])).toEqual([['temperature', 5.2]]);
    } finally {
      await runner.close();
    }
  }, 60_000);
});
