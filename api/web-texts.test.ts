/**
 * The web app speaks German and English completely (issue 25, item 5): both languages have
 * the same texts, every text the code asks for exists, every catalog metric, asset kind,
 * dataset, dead-letter reason and API error code has a name in both, and units read as
 * people write them. Reads the web app's own modules (plain ES modules, no build).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { catalog } from '../decoders/index.js';
import { DeadLetterReason } from '../ingest/errors.js';
import { DATASETS } from './open-data.js';
import { ASSET_KINDS } from './registry-schemas.js';

const root = path.resolve(import.meta.dirname, '..');
const { texts } = (await import(path.join(root, 'web', 'texts.js'))) as { texts: Record<'de' | 'en', Record<string, string>> };

async function files(dir: string, pattern: RegExp): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await files(full, pattern)));
    else if (pattern.test(entry.name) && !entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

describe('web app texts', () => {
  it('German and English have the same keys, none empty where the other is not', () => {
    expect(Object.keys(texts.de).sort()).toEqual(Object.keys(texts.en).sort());
    for (const key of Object.keys(texts.de)) expect(texts.de[key] === '', key).toBe(texts.en[key] === '');
  });

  it('every key the web app asks for exists', async () => {
    const used = new Set<string>();
    for (const file of await files(path.join(root, 'web'), /\.js$/)) {
      const source = await fs.readFile(file, 'utf8');
      for (const m of source.matchAll(/\bt\('([^']+)'/g)) used.add(m[1]!);
      for (const m of source.matchAll(/data-i18n(?:-aria)?="([^"]+)"/g)) used.add(m[1]!);
    }
    for (const m of (await fs.readFile(path.join(root, 'web', 'index.html'), 'utf8')).matchAll(/data-i18n(?:-aria)?="([^"]+)"/g)) used.add(m[1]!);
    for (const view of ['explore', 'tech', 'control', 'ops']) used.add(`nav.${view}`);
    for (const code of [0, 1, 2, 3]) used.add(`gps.${code}`);
    expect(used.size).toBeGreaterThan(100);
    expect([...used].filter((k) => !(k in texts.de))).toEqual([]);
  });

  it('names every metric, asset kind, dataset and dead-letter reason in both languages', () => {
    const keys = [
      ...[...catalog.keys()].map((id) => `m.${id}`),
      ...ASSET_KINDS.map((k) => `kind.${k}`),
      ...DATASETS.flatMap((d) => [`ds.${d.id}`, `dsd.${d.id}`]),
      ...Object.values(DeadLetterReason).map((r) => `reason.${r}`),
    ];
    for (const lang of ['de', 'en'] as const) expect(keys.filter((k) => !(k in texts[lang])), lang).toEqual([]);
    // No name left as the id it names.
    expect(keys.filter((k) => texts.de[k] === k.split('.').slice(1).join('.'))).toEqual([]);
  });

  it('has a text in both languages for every error code the API sends', async () => {
    const codes = new Set<string>();
    for (const file of await files(path.join(root, 'api'), /\.ts$/)) {
      for (const m of (await fs.readFile(file, 'utf8')).matchAll(/'(STADTFUNK_ERR_[A-Z_]+)'/g)) codes.add(m[1]!);
    }
    expect(codes.size).toBeGreaterThan(15);
    // The sign-in's own texts (auth.err.*) count too: errorText says those as well.
    for (const lang of ['de', 'en'] as const) expect([...codes].filter((c) => !(`err.${c}` in texts[lang]) && !(`auth.err.${c}` in texts[lang])), lang).toEqual([]);
  });
});

describe('units, numbers and dates in the chosen language', () => {
  const store = new Map<string, string>();
  beforeEach(() => {
    // i18n.js reads the chosen language from localStorage, as in the browser.
    Object.assign(globalThis, { localStorage: { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => store.set(k, v) } });
  });
  const i18n = () => import(path.join(root, 'web', 'i18n.js')) as Promise<{
    setLang(l: string): void; unitLabel(u: string): string; fmtValue(v: number, u: string): string; fmtDateTime(d: string): string;
    errorText(e: unknown): string; metricName(id: string): string;
  }>;

  it('writes UCUM codes as people do, in German and English', async () => {
    const { setLang, unitLabel, fmtValue } = await i18n();
    setLang('de');
    expect(['ug/m3', 'mg/m3', 'Cel', '[ppm]', '%', 'W.h', 'dB[mW]', '{spaces}', '1'].map(unitLabel)).toEqual(['µg/m³', 'mg/m³', '°C', 'ppm', '%', 'Wh', 'dBm', 'Plätze', '']);
    expect(fmtValue(8.5, 'ug/m3')).toBe('8,5 µg/m³');
    expect(fmtValue(1234.5, 'Cel')).toBe('1.234,5 °C');
    setLang('en');
    expect(fmtValue(1234.5, 'Cel')).toBe('1,234.5 °C');
    expect(unitLabel('{spaces}')).toBe('spaces');
    // Every catalog unit has a display form without UCUM's brackets and codes, and annotations are words of the language.
    expect([...catalog.values()].map((m) => unitLabel(m.unit)).filter((u) => /[[\]{}]|^Cel$|ug\/m3|^deg$/.test(u))).toEqual([]);
    const annotations = [...new Set([...catalog.values()].map((m) => m.unit).filter((u) => /^\{.*\}$/.test(u)))];
    expect(annotations.filter((u) => !(`unit.${u}` in texts.de) || !(`unit.${u}` in texts.en))).toEqual([]);
  });

  it('says API errors by their code, filled from their details', async () => {
    const { setLang, errorText } = await i18n();
    setLang('de');
    expect(errorText({ status: 409, code: 'STADTFUNK_ERR_ASSET_EXISTS', details: { id: 'lamp-0816', field: 'asset.id' } })).toBe('Den Ort lamp-0816 gibt es schon. Ihn als vorhandenen Ort wählen oder dem neuen Ort eine andere Kennung geben.');
    expect(errorText({ status: 400, code: 'STADTFUNK_ERR_VALIDATION', details: { field: 'asset.latitude', keyword: 'type' } })).toBe('Bitte das Feld „Breite“ prüfen.');
    expect(errorText({ status: 418, code: 'SOMETHING_NEW' })).toBe('Das hat nicht geklappt (HTTP 418).');
    expect(errorText({ network: true })).toMatch(/nicht erreichbar/);
    setLang('en');
    expect(errorText({ status: 400, code: 'STADTFUNK_ERR_POSITION_OUTSIDE', details: { latitude: '48.1', longitude: '11.5', city: 'Düsseldorf' } })).toBe('The position 48.1, 11.5 lies outside Düsseldorf. Check the numbers, or tap the map.');
  });
});
