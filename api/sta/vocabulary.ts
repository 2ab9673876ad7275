/**
 * How catalog metrics read as SensorThings ObservedProperties and units of measurement.
 *
 * Definitions point to shared vocabularies where one names the quantity: the EEA air
 * quality pollutant vocabulary (dd.eionet.europa.eu/vocabulary/aq/pollutant, the codes
 * European air-quality reporting uses: 1 SO2, 5 PM10, 7 O3, 8 NO2, 10 CO, 6001 PM2.5,
 * 6002 PM1), the CF standard names of NERC's P07 collection for meteorology, and QUDT
 * quantity kinds for electrical and acoustic quantities. Quantities with no such term
 * (parking and traffic counts) get a stadtfunk URN. Units: the UCUM code as symbol (what
 * the catalog stores) and the QUDT unit as definition.
 */
import { catalog } from '../../decoders/index.js';
import { observedPropertyId, type StaMetric } from '../../storage/index.js';

const EEA = 'http://dd.eionet.europa.eu/vocabulary/aq/pollutant/';
const CF = 'http://vocab.nerc.ac.uk/collection/P07/current/';
const QK = 'http://qudt.org/vocab/quantitykind/';

const DEFINITIONS: Record<string, { name: string; definition: string }> = {
  pm1: { name: 'PM1', definition: `${EEA}6002` },
  pm2_5: { name: 'PM2.5', definition: `${EEA}6001` },
  pm10: { name: 'PM10', definition: `${EEA}5` },
  no2: { name: 'NO2', definition: `${EEA}8` },
  o3: { name: 'O3', definition: `${EEA}7` },
  so2: { name: 'SO2', definition: `${EEA}1` },
  co: { name: 'CO', definition: `${EEA}10` },
  temperature: { name: 'Air temperature', definition: `${CF}CFSN0023/` },
  relative_humidity: { name: 'Relative humidity', definition: `${CF}CFSN0413/` },
  pressure: { name: 'Air pressure', definition: `${CF}CFSN0015/` },
  noise: { name: 'Sound level', definition: `${QK}SoundPressureLevel` },
  power: { name: 'Electrical power', definition: `${QK}ElectricPower` },
  energy: { name: 'Energy', definition: `${QK}Energy` },
  voltage: { name: 'Mains voltage', definition: `${QK}Voltage` },
  battery_voltage: { name: 'Battery voltage', definition: `${QK}Voltage` },
  avg_speed: { name: 'Average speed', definition: `${QK}Speed` },
  water_level: { name: 'Water level', definition: `${QK}Height` },
};

const UNITS: Record<string, { name: string; definition: string }> = {
  'ug/m3': { name: 'microgram per cubic metre', definition: 'http://qudt.org/vocab/unit/MicroGM-PER-M3' },
  'mg/m3': { name: 'milligram per cubic metre', definition: 'http://qudt.org/vocab/unit/MilliGM-PER-M3' },
  '[ppm]': { name: 'parts per million', definition: 'http://qudt.org/vocab/unit/PPM' },
  Cel: { name: 'degree Celsius', definition: 'http://qudt.org/vocab/unit/DEG_C' },
  '%': { name: 'percent', definition: 'http://qudt.org/vocab/unit/PERCENT' },
  hPa: { name: 'hectopascal', definition: 'http://qudt.org/vocab/unit/HectoPA' },
  dB: { name: 'decibel', definition: 'http://qudt.org/vocab/unit/DeciB' },
  '1': { name: 'one (dimensionless)', definition: 'http://qudt.org/vocab/unit/UNITLESS' },
  '{spaces}': { name: 'parking spaces', definition: 'http://qudt.org/vocab/unit/NUM' },
  '{vehicles}': { name: 'vehicles', definition: 'http://qudt.org/vocab/unit/NUM' },
  s: { name: 'second', definition: 'http://qudt.org/vocab/unit/SEC' },
  'km/h': { name: 'kilometre per hour', definition: 'http://qudt.org/vocab/unit/KiloM-PER-HR' },
  W: { name: 'watt', definition: 'http://qudt.org/vocab/unit/W' },
  'W.h': { name: 'watt hour', definition: 'http://qudt.org/vocab/unit/W-HR' },
  V: { name: 'volt', definition: 'http://qudt.org/vocab/unit/V' },
  cm: { name: 'centimetre', definition: 'http://qudt.org/vocab/unit/CentiM' },
  'dB[mW]': { name: 'decibel milliwatt', definition: 'http://qudt.org/vocab/unit/DeciB_M' },
};

/** Every catalog metric as SensorThings shows it. */
export const STA_METRICS: readonly StaMetric[] = [...catalog.values()].map((m) => {
  const d = DEFINITIONS[m.id];
  const u = UNITS[m.unit];
  return {
    id: m.id,
    public: m.public,
    category: m.category,
    observedPropertyId: observedPropertyId(m.id),
    name: d?.name ?? m.id,
    description: m.description,
    definition: d?.definition ?? `urn:stadtfunk:metric:${m.id}`,
    unitName: u?.name ?? m.unit,
    unitSymbol: m.unit,
    unitDefinition: u?.definition ?? `urn:ucum:${m.unit}`,
    min: m.min,
    max: m.max,
  };
});
