/**
 * Bulk CSV import of devices (and the assets they are mounted on). Each row is checked
 * on its own; good rows are imported, each in its own transaction, bad rows are
 * reported as {row, field, problem} and nothing of them is written.
 */
import { parse } from 'csv-parse/sync';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type pg from 'pg';
import { inTransaction, selectAsset, upsertAsset, upsertDevice, type AssetInput as AssetRowInput, type DeviceInput as DeviceRowInput } from '../storage/index.js';
import type { CityProfile } from '../city-profile.js';
import { HttpError } from './errors.js';
import { positionProblem } from './position.js';
import { AssetInput, DeviceInput } from './registry-schemas.js';
import type { Static } from '@sinclair/typebox';

const checkDevice = TypeCompiler.Compile(DeviceInput);
const checkAsset = TypeCompiler.Compile(AssetInput);

export interface ImportProblem {
  row: number;
  field: string;
  problem: string;
}

export interface ImportReport {
  imported: number;
  failed: number;
  problems: ImportProblem[];
  devEuis: string[];
}

interface ImportDeps {
  pool: pg.Pool;
  /** New assets must stand inside the city's area. */
  city: Pick<CityProfile, 'area' | 'name'>;
  prepare(row: { device: Static<typeof DeviceInput> }): Promise<DeviceRowInput>;
}

const NUMBER_FIELDS = new Set(['latitude', 'longitude', 'capacity', 'expectedIntervalS']);

function field(path: string): string {
  return path.replace(/^\//, '').replace(/\//g, '.') || 'row';
}

export async function importDevicesCsv(text: string, deps: ImportDeps): Promise<ImportReport> {
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  } catch (error) {
    throw new HttpError(400, 'STADTFUNK_ERR_BAD_CSV', `body: not readable as CSV with a header row: ${(error as Error).message}`);
  }
  const report: ImportReport = { imported: 0, failed: 0, problems: [], devEuis: [] };
  for (let i = 0; i < records.length; i++) {
    const row = i + 2; // line number in the file, after the header
    const raw = records[i]!;
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (v === '' || v === undefined) continue;
      values[k] = NUMBER_FIELDS.has(k) && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
    }
    const device: Record<string, unknown> = {};
    for (const k of ['devEui', 'qr', 'joinEui', 'name', 'modelId', 'assetId', 'devAddr', 'nwkSKey', 'appSKey', 'appKey', 'macVersion', 'allowCounterReset', 'expectedIntervalS']) if (k in values) device[k] = values[k];
    const problems: ImportProblem[] = [];
    for (const e of checkDevice.Errors(device)) {
      problems.push({ row, field: field(e.path), problem: e.message });
      break;
    }
    let asset: AssetRowInput | null = null;
    if (problems.length === 0 && values.assetId && values.assetKind) {
      const a = { id: values.assetId, kind: values.assetKind, latitude: values.latitude, longitude: values.longitude, ...(values.zone ? { zone: values.zone } : {}), ...(values.assetName ? { name: values.assetName } : {}) };
      for (const e of checkAsset.Errors(a)) {
        problems.push({ row, field: field(e.path) === 'kind' ? 'assetKind' : field(e.path), problem: e.message });
        break;
      }
      const position = problems.length === 0 ? positionProblem(deps.city, a.latitude as number | undefined, a.longitude as number | undefined) : null;
      if (position) problems.push({ row, field: String(position.details?.field ?? 'latitude'), problem: position.message.replace(/^[A-Za-z.]+: /, '') });
      if (problems.length === 0) asset = a as AssetRowInput;
    }
    if (problems.length === 0) {
      try {
        if (!asset && values.assetId && !(await selectAsset(deps.pool, String(values.assetId)))) {
          throw new HttpError(400, 'x', `assetId: no asset ${String(values.assetId)} (give assetKind, latitude and longitude to create it)`);
        }
        const prepared = asset
          ? await (async () => {
              // The asset is created with the device: check the device against a model etc. first.
              const { assetId: _omit, ...withoutAsset } = device as Static<typeof DeviceInput>;
              const p = await deps.prepare({ device: withoutAsset as Static<typeof DeviceInput> });
              return { ...p, assetId: asset!.id };
            })()
          : await deps.prepare({ device: device as Static<typeof DeviceInput> });
        await inTransaction(deps.pool, async (client) => {
          if (asset) await upsertAsset(client, asset);
          await upsertDevice(client, prepared);
        });
        report.imported++;
        report.devEuis.push(prepared.devEui);
        continue;
      } catch (error) {
        const message = (error as Error).message;
        const m = /^([A-Za-z.]+): (.*)$/.exec(message);
        problems.push({ row, field: m?.[1] ?? 'row', problem: m?.[2] ?? message });
      }
    }
    report.failed++;
    report.problems.push(...problems);
  }
  return report;
}
