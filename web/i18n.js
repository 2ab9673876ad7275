// German and English: labels (texts.js), metric, kind and dataset names, units from the
// catalog's UCUM codes, numbers and dates through Intl, and API errors by their code.
// The language follows the browser until the user picks one.
import { texts } from './texts.js';

export function lang() {
  const stored = localStorage.getItem('stadtfunk.lang');
  if (stored === 'de' || stored === 'en') return stored;
  return navigator.language?.startsWith('de') ? 'de' : 'en';
}

export function setLang(value) {
  localStorage.setItem('stadtfunk.lang', value);
}

/** The text of `key` in the chosen language; `{name}` is replaced by params.name. */
export function t(key, params) {
  const text = texts[lang()]?.[key] ?? texts.en[key] ?? key;
  return params ? text.replace(/\{(\w+)\}/g, (m, name) => (params[name] === undefined ? m : String(params[name]))) : text;
}

const has = (key) => key in texts[lang()];

export function applyStatic() {
  document.documentElement.lang = lang();
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
}

/** A catalog metric's name (`battery_voltage` → "Batteriespannung"); an unknown id stays as it is. */
export const metricName = (id) => (has(`m.${id}`) ? t(`m.${id}`) : id);
export const kindName = (kind) => (has(`kind.${kind}`) ? t(`kind.${kind}`) : kind);
export const datasetTitle = (id, fallback) => (has(`ds.${id}`) ? t(`ds.${id}`) : fallback ?? id);
export const datasetDescription = (id, fallback) => (has(`dsd.${id}`) ? t(`dsd.${id}`) : fallback ?? '');

// UCUM codes (case-sensitive form) as people write them. Annotations ({spaces}) are words.
const UCUM = { 'ug/m3': 'µg/m³', 'mg/m3': 'mg/m³', '[ppm]': 'ppm', Cel: '°C', 'W.h': 'Wh', 'dB[mW]': 'dBm', 'km/h': 'km/h', deg: '°' };

/** The unit of a UCUM code for display: `ug/m3` → µg/m³, `Cel` → °C, `{spaces}` → "Plätze". */
export function unitLabel(ucum) {
  if (ucum === undefined || ucum === null) return '';
  if (has(`unit.${ucum}`)) return t(`unit.${ucum}`);
  if (UCUM[ucum]) return UCUM[ucum];
  return ucum.replace(/\{([^}]*)\}/g, '$1').replace(/m3\b/g, 'm³').replace(/m2\b/g, 'm²');
}

const numberFormats = new Map();
/** A number in the chosen language (1.234,5 / 1,234.5) with at most `digits` fraction digits. */
export function fmtNumber(value, digits = 2) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const key = `${lang()}:${digits}`;
  if (!numberFormats.has(key)) numberFormats.set(key, new Intl.NumberFormat(lang() === 'de' ? 'de-DE' : 'en-GB', { maximumFractionDigits: digits }));
  return numberFormats.get(key).format(value);
}

/** A value with its unit: "8,5 µg/m³", "6,5 °C", "80 %". */
export function fmtValue(value, ucum, digits = 2) {
  const unit = unitLabel(ucum);
  return unit ? `${fmtNumber(value, digits)} ${unit}` : fmtNumber(value, digits);
}

const locale = () => (lang() === 'de' ? 'de-DE' : 'en-GB');
/** Date and time in the chosen language, e.g. 5.12.2026, 14:03. */
export function fmtDateTime(value, options = { dateStyle: 'medium', timeStyle: 'short' }) {
  if (value === null || value === undefined) return '–';
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? '–' : new Intl.DateTimeFormat(locale(), options).format(date);
}

/** The API's error in the chosen language: by its code, filled with its details. */
export function errorText(error) {
  if (error?.network) return t('err.network');
  const details = { ...(error?.details ?? {}) };
  if (details.field) details.field = fieldName(String(details.field));
  if (error?.code && has(`err.${error.code}`)) return t(`err.${error.code}`, details);
  // Sign-in and account errors live in the sign-in's own block of texts.
  if (error?.code && has(`auth.err.${error.code}`)) return t(`auth.err.${error.code}`, { minutes: Math.ceil((error.retryAfterS ?? 60) / 60), ...details });
  return t('err.generic', { status: error?.status ?? '?' });
}

/** A request field as its label on screen: `asset.latitude` → "Breite". */
export function fieldName(field) {
  const last = field.split('.').pop();
  const labels = { latitude: 'latitude', longitude: 'longitude', qr: 'qr', devEui: 'qr', modelId: 'model', assetId: 'existingAsset', id: 'assetId', kind: 'kind', zone: 'zone' };
  return labels[last] ? t(labels[last]) : last;
}
