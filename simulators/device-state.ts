/**
 * What each simulated device measures at a given time: smooth signals from
 * simulators/signals.ts plus per-device noise, turned into the reference payloads.
 * Each device keeps a little state (battery, energy meter, bay occupancy, water level).
 */
import { encodeAir, encodeParking, encodeStreetlight, encodeTraffic, encodeWater, type TrafficCount } from '../decoders/index.js';
import type { SimDevice } from './fleet.js';
import type { Random } from './random.js';
import { inversion, lampState, parkingOccupancy, trafficIntensity } from './signals.js';

export interface DeviceState {
  batteryV: number;
  energyWh: number;
  occupied: boolean;
  waterCm: number;
  garageFree: number;
}

export function initialState(device: SimDevice, random: Random): DeviceState {
  return {
    batteryV: 3.6 - random.between(0, 0.4),
    energyWh: random.int(10_000, 900_000),
    occupied: random.chance(0.5),
    waterCm: random.between(180, 320),
    garageFree: Math.round((device.asset.capacity ?? 0) * 0.5),
  };
}

const round = (v: number, d: number): number => Number(v.toFixed(d));

/**
 * The payload a device sends at time t (its state moves on). `lamp`: a streetlight that
 * was commanded reports the commanded state instead of its dusk-to-dawn schedule.
 */
export function payloadAt(device: SimDevice, state: DeviceState, t: Date, random: Random, lamp: { on: boolean; dimPercent: number } | null = null): Buffer {
  state.batteryV = Math.max(2.9, state.batteryV - 0.00002 * (1 + random.next()));
  switch (device.kind) {
    case 'air': {
      const traffic = trafficIntensity(t);
      const inv = inversion(t);
      const pm25 = Math.max(1, 6 + 14 * traffic + 18 * inv + random.gaussian(0, 2));
      return encodeAir({
        pm1: round(pm25 * 0.7, 1),
        pm2_5: round(pm25, 1),
        pm10: round(pm25 * 1.6 + random.gaussian(0, 2), 1),
        no2: round(Math.max(2, 12 + 45 * traffic + 10 * inv + random.gaussian(0, 4)), 1),
        co2: Math.round(420 + 60 * traffic + random.gaussian(0, 8)),
        temperature: round(6 + 4 * Math.sin(((t.getUTCHours() - 9) / 24) * 2 * Math.PI) + random.gaussian(0, 0.3), 2),
        relative_humidity: round(Math.min(100, Math.max(20, 78 + random.gaussian(0, 4))), 1),
        pressure: round(1013 + random.gaussian(0, 1.5), 1),
        noise: round(Math.max(30, 48 + 22 * traffic + random.gaussian(0, 3)), 1),
        battery_voltage: round(state.batteryV, 3),
      });
    }
    case 'parking': {
      if (device.garage) {
        const capacity = device.asset.capacity ?? 300;
        const target = Math.round(capacity * (1 - parkingOccupancy(t)));
        state.garageFree = Math.max(0, Math.min(capacity, Math.round(state.garageFree + (target - state.garageFree) * 0.3 + random.gaussian(0, 3))));
        return encodeParking({ kind: 'counter', free_spaces: state.garageFree, total_spaces: capacity });
      }
      // Turnover: an occupied bay frees with some chance, a free bay fills with the occupancy-driven chance.
      const p = parkingOccupancy(t);
      state.occupied = state.occupied ? !random.chance(0.15 * (1 - p) + 0.02) : random.chance(0.2 * p);
      return encodeParking({ kind: 'bay', occupied: state.occupied, fault: random.chance(0.001), battery_voltage: round(state.batteryV, 3) });
    }
    case 'streetlight': {
      lamp ??= lampState(t);
      const powerW = lamp.on ? (38 * lamp.dimPercent) / 100 + random.gaussian(0, 0.5) : 0.4;
      state.energyWh += (powerW * device.intervalS) / 3600;
      return encodeStreetlight({ lamp_on: lamp.on, dim_level: lamp.dimPercent, power: round(Math.max(0, powerW), 1), energy: Math.round(state.energyWh), voltage: round(230 + random.gaussian(0, 1.5), 1) });
    }
    case 'water': {
      state.waterCm += random.gaussian(0, 0.8);
      return encodeWater({ water_level: Math.round(state.waterCm), battery_voltage: round(state.batteryV, 3) });
    }
    case 'traffic': {
      const intensity = trafficIntensity(t);
      const counts: TrafficCount[] = [];
      for (const [lane, direction] of [[1, 'in'], [2, 'out']] as const) {
        const cars = Math.max(0, Math.round(intensity * 120 + random.gaussian(0, 6)));
        const trucks = Math.max(0, Math.round(intensity * 10 + random.gaussian(0, 2)));
        const speed = Math.round(Math.max(8, 48 - 25 * intensity + random.gaussian(0, 3)));
        counts.push({ lane, direction, vehicleClass: 'car', count: cars, avgSpeedKmh: speed });
        counts.push({ lane, direction, vehicleClass: 'truck', count: trucks, avgSpeedKmh: speed - 5 });
      }
      return encodeTraffic({ intervalS: device.intervalS, occupancyPercent: Math.round(Math.min(100, intensity * 35)), counts });
    }
  }
}
