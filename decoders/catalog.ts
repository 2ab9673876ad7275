/**
 * The canonical metric catalog: every measured quantity stadtfunk stores, its UCUM unit
 * and a plausible range. A value outside its range is stored with quality
 * `out_of_range`, never silently as good. Vendor field names end in the decoders;
 * past them only these ids travel.
 */
import type { Quality, Reading } from './types.js';

export type MetricCategory = 'air' | 'parking' | 'traffic' | 'streetlight' | 'water' | 'health';

export interface Metric {
  id: string;
  /** UCUM code (case-sensitive form). */
  unit: string;
  description: string;
  category: MetricCategory;
  min: number;
  max: number;
  /** Shown in open data. Radio and battery internals are not. */
  public: boolean;
}

const metrics: Metric[] = [
  // Air quality (street lamps). Ranges: beyond what German stations have ever recorded, below sensor failure values.
  { id: 'pm1', unit: 'ug/m3', description: 'Particulate matter < 1 µm', category: 'air', min: 0, max: 1000, public: true },
  { id: 'pm2_5', unit: 'ug/m3', description: 'Particulate matter < 2.5 µm', category: 'air', min: 0, max: 1000, public: true },
  { id: 'pm10', unit: 'ug/m3', description: 'Particulate matter < 10 µm', category: 'air', min: 0, max: 2000, public: true },
  { id: 'no2', unit: 'ug/m3', description: 'Nitrogen dioxide', category: 'air', min: 0, max: 2000, public: true },
  { id: 'o3', unit: 'ug/m3', description: 'Ozone', category: 'air', min: 0, max: 1000, public: true },
  { id: 'so2', unit: 'ug/m3', description: 'Sulphur dioxide', category: 'air', min: 0, max: 2000, public: true },
  { id: 'co', unit: 'mg/m3', description: 'Carbon monoxide', category: 'air', min: 0, max: 100, public: true },
  { id: 'co2', unit: '[ppm]', description: 'Carbon dioxide', category: 'air', min: 250, max: 10000, public: true },
  { id: 'temperature', unit: 'Cel', description: 'Air temperature', category: 'air', min: -40, max: 60, public: true },
  { id: 'relative_humidity', unit: '%', description: 'Relative humidity', category: 'air', min: 0, max: 100, public: true },
  { id: 'pressure', unit: 'hPa', description: 'Air pressure', category: 'air', min: 800, max: 1100, public: true },
  // UCUM has no A-weighting; dB with the weighting in the id's description is the usual compromise.
  { id: 'noise', unit: 'dB', description: 'Sound level, A-weighted (dB(A))', category: 'air', min: 0, max: 140, public: true },
  // TS013 normalized payload (The Things Network lib/payload.json): air.lightIntensity, wind.*
  { id: 'illuminance', unit: 'lx', description: 'Illuminance (light intensity)', category: 'air', min: 0, max: 200000, public: true },
  { id: 'wind_speed', unit: 'm/s', description: 'Wind speed', category: 'air', min: 0, max: 100, public: true },
  { id: 'wind_direction', unit: 'deg', description: 'Wind direction, clockwise from north', category: 'air', min: 0, max: 360, public: true },
  // Parking
  { id: 'occupied', unit: '1', description: 'Parking bay occupied (1) or free (0)', category: 'parking', min: 0, max: 1, public: true },
  { id: 'free_spaces', unit: '{spaces}', description: 'Free spaces (garage or zone)', category: 'parking', min: 0, max: 100000, public: true },
  { id: 'total_spaces', unit: '{spaces}', description: 'Total spaces (garage or zone)', category: 'parking', min: 0, max: 100000, public: true },
  // Traffic (counting sites)
  { id: 'vehicle_count', unit: '{vehicles}', description: 'Vehicles counted in the interval', category: 'traffic', min: 0, max: 100000, public: true },
  { id: 'count_interval', unit: 's', description: 'Length of the counting interval', category: 'traffic', min: 1, max: 86400, public: true },
  { id: 'avg_speed', unit: 'km/h', description: 'Average speed', category: 'traffic', min: 0, max: 300, public: true },
  { id: 'traffic_occupancy', unit: '%', description: 'Share of time the detector was occupied', category: 'traffic', min: 0, max: 100, public: true },
  // Counters as vendors report them: cumulative since the counter's last reset (or wrap).
  // Increments per interval are derived from the series (counter-increments.ts), never stored twice.
  { id: 'vehicle_count_total', unit: '{vehicles}', description: "Vehicle counter as the device reports it (cumulative since its last reset)", category: 'traffic', min: 0, max: 1e12, public: true },
  { id: 'people_count', unit: '{persons}', description: 'People counted in the interval', category: 'traffic', min: 0, max: 100000, public: true },
  { id: 'people_count_total', unit: '{persons}', description: "People counter as the device reports it (cumulative since its last reset)", category: 'traffic', min: 0, max: 1e12, public: true },
  // Streetlight controllers
  { id: 'lamp_on', unit: '1', description: 'Lamp on (1) or off (0)', category: 'streetlight', min: 0, max: 1, public: true },
  { id: 'dim_level', unit: '%', description: 'Dimming level', category: 'streetlight', min: 0, max: 100, public: true },
  { id: 'power', unit: 'W', description: 'Electrical power', category: 'streetlight', min: 0, max: 5000, public: true },
  { id: 'energy', unit: 'W.h', description: 'Energy meter reading', category: 'streetlight', min: 0, max: 1e9, public: true },
  { id: 'voltage', unit: 'V', description: 'Mains voltage', category: 'streetlight', min: 0, max: 400, public: true },
  // Water gauges
  { id: 'water_level', unit: 'cm', description: 'Water level above gauge zero', category: 'water', min: -500, max: 3000, public: true },
  // What an ultrasonic or radar level sensor measures: not a level until the model says where the sensor hangs.
  { id: 'water_distance', unit: 'cm', description: 'Distance from the sensor down to the water surface', category: 'water', min: 0, max: 5000, public: true },
  // Device health (not open data)
  { id: 'battery_voltage', unit: 'V', description: 'Battery voltage', category: 'health', min: 0, max: 15, public: false },
  { id: 'battery_level', unit: '%', description: 'Battery level', category: 'health', min: 0, max: 100, public: false },
  { id: 'rssi', unit: 'dB[mW]', description: 'Received signal strength (dBm) of the best reception', category: 'health', min: -150, max: 20, public: false },
  { id: 'snr', unit: 'dB', description: 'Signal-to-noise ratio of the best reception', category: 'health', min: -30, max: 30, public: false },
  { id: 'link_margin', unit: 'dB', description: 'Demodulation margin reported by the device (DevStatusAns)', category: 'health', min: -32, max: 31, public: false },
];

export const catalog: ReadonlyMap<string, Metric> = new Map(metrics.map((m) => [m.id, Object.freeze(m)]));

export function getMetric(id: string): Metric | undefined {
  return catalog.get(id);
}

export function qualityOf(metric: Metric, value: number): Quality {
  return value >= metric.min && value <= metric.max ? 'ok' : 'out_of_range';
}

/** A Reading in the catalog unit with its quality; undefined for an unknown metric or a non-finite value. */
export function makeReading(metricId: string, value: number, time: Date, channel = ''): Reading | undefined {
  const metric = catalog.get(metricId);
  if (!metric || !Number.isFinite(value)) return undefined;
  return { metric: metric.id, channel, value, unit: metric.unit, quality: qualityOf(metric, value), time };
}
