/**
 * A simulated city: N devices per category with their assets, placed around
 * Düsseldorf's centre, with ABP session keys. Everything derives from the seed, so
 * the same seed gives the same city (and the same keys, so it can be registered twice).
 */
import type { AssetInput } from '../storage/index.js';
import { Random } from './random.js';

export const DEVICE_KINDS = ['air', 'parking', 'traffic', 'streetlight', 'water'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export interface SimDevice {
  index: number;
  kind: DeviceKind;
  devEui: string;
  devAddr: string;
  nwkSKey: Buffer;
  appSKey: Buffer;
  modelId: string;
  builtinDecoder: string;
  fPort: number;
  /** Seconds between uplinks. */
  intervalS: number;
  asset: AssetInput;
  /** Garage counters among the parking devices. */
  garage: boolean;
  /** Distance-relevant position, degrees. */
  latitude: number;
  longitude: number;
}

/**
 * The reference models. Battery-powered ones run on a 3.6 V lithium-thionyl chloride cell
 * (device-state.ts starts them at 3.2–3.6 V): its voltage stays nearly flat for most of its
 * life and falls only at the end, so such a device is low below 3.1 V, not at 3.3 V.
 * Mains-powered controllers and counters report no battery.
 */
export const MODELS: Record<DeviceKind, { id: string; name: string; builtin: string; fPort: number; intervalS: number; batteryLowVolts?: number }> = {
  air: { id: 'stadtfunk-air-v1', name: 'Lamp air-quality sensor (stadtfunk reference)', builtin: 'stadtfunk-air', fPort: 10, intervalS: 300, batteryLowVolts: 3.1 },
  parking: { id: 'stadtfunk-parking-v1', name: 'Parking sensor (stadtfunk reference)', builtin: 'stadtfunk-parking', fPort: 11, intervalS: 120, batteryLowVolts: 3.1 },
  streetlight: { id: 'stadtfunk-streetlight-v1', name: 'Streetlight controller (stadtfunk reference)', builtin: 'stadtfunk-streetlight', fPort: 12, intervalS: 900 },
  water: { id: 'stadtfunk-water-v1', name: 'Water gauge (stadtfunk reference)', builtin: 'stadtfunk-water', fPort: 13, intervalS: 600, batteryLowVolts: 3.1 },
  traffic: { id: 'stadtfunk-traffic-v1', name: 'Traffic counter (stadtfunk reference)', builtin: 'stadtfunk-traffic', fPort: 14, intervalS: 300 },
};

const ZONES = [
  { id: 'altstadt', lat: 51.2262, lon: 6.7737 },
  { id: 'carlstadt', lat: 51.2213, lon: 6.7751 },
  { id: 'stadtmitte', lat: 51.2235, lon: 6.7866 },
  { id: 'pempelfort', lat: 51.2386, lon: 6.7867 },
  { id: 'bilk', lat: 51.2075, lon: 6.7809 },
  { id: 'oberkassel', lat: 51.2309, lon: 6.7563 },
];

const ASSET_KIND: Record<DeviceKind, AssetInput['kind']> = {
  air: 'street_lamp', streetlight: 'street_lamp', parking: 'parking_bay', traffic: 'traffic_site', water: 'water_gauge',
};

export interface FleetOptions {
  devices: number;
  kinds: readonly DeviceKind[];
  seed: string | number;
}

/** `devices` devices spread round-robin over `kinds`. */
export function buildFleet(options: FleetOptions): SimDevice[] {
  const random = new Random(`fleet:${options.seed}`);
  const fleet: SimDevice[] = [];
  for (let i = 0; i < options.devices; i++) {
    const kind = options.kinds[i % options.kinds.length]!;
    const model = MODELS[kind];
    const zone = ZONES[random.int(0, ZONES.length - 1)]!;
    const latitude = Number((zone.lat + random.gaussian(0, 0.004)).toFixed(6));
    const longitude = Number((zone.lon + random.gaussian(0, 0.006)).toFixed(6));
    const garage = kind === 'parking' && i % 50 === 49;
    const serial = String(i + 1).padStart(5, '0');
    const assetId = `${kind === 'air' || kind === 'streetlight' ? 'lamp' : kind === 'parking' ? (garage ? 'garage' : 'bay') : kind === 'traffic' ? 'site' : 'gauge'}-${serial}`;
    // DevEUIs in a locally administered block; DevAddrs in NetID 0 (7-bit NwkID 0x13, as a city network might use).
    const devEui = ('f0' + (0x5f0000 + i).toString(16).padStart(6, '0') + random.bytes(4).toString('hex')).slice(0, 16);
    const devAddr = (0x26000000 + (random.int(0, 0xffff) << 8) + (i & 0xff)).toString(16).padStart(8, '0');
    fleet.push({
      index: i,
      kind,
      devEui,
      devAddr,
      nwkSKey: random.bytes(16),
      appSKey: random.bytes(16),
      modelId: model.id,
      builtinDecoder: model.builtin,
      fPort: model.fPort,
      intervalS: model.intervalS,
      garage,
      latitude,
      longitude,
      asset: {
        id: assetId,
        kind: garage ? 'garage' : ASSET_KIND[kind],
        name: `${assetId} (${zone.id})`,
        latitude,
        longitude,
        zone: zone.id,
        isPublic: kind !== 'parking' || garage,
        capacity: garage ? 200 + random.int(0, 400) : null,
        attributes: kind === 'traffic' ? { lanes: 2, directions: ['in', 'out'] } : {},
      },
    });
  }
  return fleet;
}
