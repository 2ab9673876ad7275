// How each open dataset is drawn on the explorer's map: a marker colour per asset from its
// latest values, and the legend that explains exactly those colours. One entry per
// dataset, so switching datasets switches the legend with the markers.
import { fmtValue, metricName, t } from '../i18n.js';

// PM2.5 bands of the German Environment Agency's air quality index (µg/m³, hourly mean):
// sehr gut ≤ 10, gut ≤ 20, mäßig ≤ 25, schlecht ≤ 50, sehr schlecht above.
const UBA = [[10, 'uba.1', '#50ccaa'], [20, 'uba.2', '#50f0e6'], [25, 'uba.3', '#f0e641'], [50, 'uba.4', '#ff5050'], [Infinity, 'uba.5', '#960032']];
const NO_VALUE = '#0b5cad';

/** Sum of a channelled metric's values (`vehicle_count@lane=1;…`), or its plain value. */
export function total(values, metric) {
  let sum = null;
  for (const [key, value] of Object.entries(values)) {
    if ((key === metric || key.startsWith(`${metric}@`)) && typeof value === 'number') sum = (sum ?? 0) + value;
  }
  return sum;
}

/** Mean of a channelled metric's values. */
export function mean(values, metric) {
  const list = Object.entries(values).filter(([key, v]) => (key === metric || key.startsWith(`${metric}@`)) && typeof v === 'number').map(([, v]) => v);
  return list.length ? list.reduce((a, b) => a + b, 0) / list.length : null;
}

/** Counts add up over channels; everything else is averaged. */
export const COUNTED = new Set(['vehicle_count', 'people_count']);
export const combine = (values, metric) => (COUNTED.has(metric) ? total(values, metric) : mean(values, metric));

function band(bands, value) {
  return bands.find(([max]) => value <= max);
}

const STYLES = {
  'air-quality': {
    title: 'uba.title',
    defaultMetric: 'pm2_5',
    colour(values) {
      return typeof values.pm2_5 === 'number' ? band(UBA, values.pm2_5)[2] : NO_VALUE;
    },
    badge(values) {
      return typeof values.pm2_5 === 'number' ? { text: t(band(UBA, values.pm2_5)[1]), colour: band(UBA, values.pm2_5)[2] } : null;
    },
    legend: () => [...UBA.map(([, key, colour]) => [colour, t(key)]), [NO_VALUE, t('uba.none')]],
  },
  parking: {
    title: 'parking.title',
    defaultMetric: 'free_spaces',
    colour(values, kind) {
      if (kind === 'parking_bay') return values.occupied === undefined ? '#6e7781' : values.occupied >= 0.5 ? '#b42318' : '#1a7f37';
      const share = typeof values.free_spaces === 'number' && values.total_spaces ? values.free_spaces / values.total_spaces : null;
      return share === null ? '#6e7781' : share > 0.2 ? '#1a7f37' : share >= 0.05 ? '#f0b400' : '#b42318';
    },
    badge: () => null,
    legend: () => [['#1a7f37', t('parking.many')], ['#f0b400', t('parking.few')], ['#b42318', t('parking.full')], ['#1a7f37', t('parking.bayFree')], ['#b42318', t('parking.bayOccupied')]],
  },
  traffic: {
    title: 'traffic.title',
    defaultMetric: 'vehicle_count',
    colour(values) {
      const n = total(values, 'vehicle_count');
      return n === null ? '#6e7781' : n < 20 ? '#a6d96a' : n < 60 ? '#fdae61' : '#d7191c';
    },
    badge: () => null,
    legend: () => [['#a6d96a', t('traffic.low')], ['#fdae61', t('traffic.mid')], ['#d7191c', t('traffic.high')]],
  },
  'water-level': {
    title: 'water.title',
    defaultMetric: 'water_level',
    colour(values) {
      const cm = values.water_level;
      return typeof cm !== 'number' ? '#6e7781' : cm < 200 ? '#9ecae1' : cm < 500 ? '#4292c6' : '#08306b';
    },
    badge: () => null,
    legend: () => [['#9ecae1', t('water.low')], ['#4292c6', t('water.mid')], ['#08306b', t('water.high')]],
  },
};

const FALLBACK = { title: null, colour: () => NO_VALUE, badge: () => null, legend: () => [] };

export function datasetStyle(id) {
  return STYLES[id] ?? FALLBACK;
}

/** Up to four of the dataset's metrics with their latest value, in words: "Feinstaub PM2,5: 8,5 µg/m³". */
export function summary(dataset, values) {
  const parts = [];
  for (const m of dataset.metrics) {
    const value = combine(values, m.id);
    if (value === null) continue;
    parts.push(`${metricName(m.id)}: ${fmtValue(value, m.unit, 1)}`);
    if (parts.length === 4) break;
  }
  return parts.join(' · ');
}
