/**
 * A device as a client describes it, turned into the row the registry stores: the
 * DevEUI/JoinEUI from the TR005 QR string or the fields, references checked, ABP keys
 * or the OTAA AppKey sealed. Shared by registration, the device routes and the CSV import.
 */
import type pg from 'pg';
import { keyAad, type KeyVault } from '../ingest/lorawan/index.js';
import { selectAsset, selectDeviceModel, selectDeviceModels, type DeviceInput as DeviceRow } from '../storage/index.js';
import { badRequest, HttpError } from './errors.js';
import type { DeviceInputT } from './registry-schemas.js';
import { parseTr005 } from './tr005.js';

/** The DevEUI and JoinEUI a request names (a TR005 QR string wins); throws 400 naming the field. */
export function resolveIds(body: DeviceInputT, field = ''): { devEui: string; joinEui: string | null } {
  if (body.qr !== undefined) {
    const label = parseTr005(body.qr);
    if ('error' in label) throw new HttpError(400, 'STADTFUNK_ERR_BAD_QR', `${field}qr: ${label.error}`, { details: { field: `${field}qr` } });
    if (body.devEui && body.devEui.toLowerCase() !== label.devEui) throw badRequest(`${field}devEui: ${body.devEui} differs from the QR code's ${label.devEui}`);
    return { devEui: label.devEui, joinEui: label.joinEui };
  }
  if (!body.devEui) throw new HttpError(400, 'STADTFUNK_ERR_DEVICE_ID_MISSING', `${field}devEui: is required (or give the device label as qr)`, { details: { field: `${field}devEui` } });
  return { devEui: body.devEui.toLowerCase(), joinEui: body.joinEui?.toLowerCase() ?? null };
}

/**
 * Validates references and seals keys; throws 400 naming the field. `assetKnown` skips
 * the asset lookup for an asset created in the same transaction.
 */
export async function prepareDevice(
  db: pg.Pool | pg.ClientBase, vault: KeyVault | null, body: DeviceInputT, devEui: string, joinEui: string | null,
  options: { field?: string; assetKnown?: boolean } = {},
): Promise<DeviceRow> {
  const field = options.field ?? '';
  if (!(await selectDeviceModel(db, body.modelId))) {
    // Name what exists (issue 26): the models, or how to make one.
    const known = (await selectDeviceModels(db)).map((m) => m.id);
    const models = known.length === 0 ? 'none yet; PUT /api/v1/device-models/{id} creates one' : `${known.slice(0, 50).join(', ')}${known.length > 50 ? ', …' : ''}`;
    throw new HttpError(400, 'STADTFUNK_ERR_UNKNOWN_MODEL', `${field}modelId: no device model ${body.modelId} (models: ${models})`, { details: { field: `${field}modelId`, id: body.modelId } });
  }
  if (body.assetId && !options.assetKnown && !(await selectAsset(db, body.assetId))) {
    throw new HttpError(400, 'STADTFUNK_ERR_UNKNOWN_ASSET', `${field}assetId: no asset ${body.assetId}`, { details: { field: `${field}assetId`, id: body.assetId } });
  }
  if ((body.nwkSKey || body.appSKey) && !vault) throw badRequest(`${field}nwkSKey: the server has no MASTER_KEY to keep keys encrypted; ask the operator to set it`);
  if ((body.nwkSKey || body.appSKey) && !body.devAddr) throw badRequest(`${field}devAddr: is required with ABP keys`);
  if (body.appKey && !vault) throw badRequest(`${field}appKey: the server has no MASTER_KEY to keep keys encrypted; ask the operator to set it`);
  if (body.appKey && (body.nwkSKey || body.appSKey)) throw badRequest(`${field}appKey: a device joins by OTAA (AppKey) or has ABP session keys, not both`);
  if (body.appKey && !joinEui) throw badRequest(`${field}joinEui: is required with an AppKey (type it or give the TR005 QR code)`);
  return {
    devEui, joinEui, modelId: body.modelId, assetId: body.assetId ?? null, name: body.name ?? null, devAddr: body.devAddr?.toLowerCase() ?? null,
    nwkSKeySealed: body.nwkSKey && vault ? vault.sealKey(Buffer.from(body.nwkSKey, 'hex'), keyAad(devEui, 'nwkSKey')) : null,
    appSKeySealed: body.appSKey && vault ? vault.sealKey(Buffer.from(body.appSKey, 'hex'), keyAad(devEui, 'appSKey')) : null,
    // OTAA: the AppKey, sealed like the session keys (the join derives them from it).
    appKeySealed: body.appKey && vault ? vault.sealKey(Buffer.from(body.appKey, 'hex'), keyAad(devEui, 'appKey')) : null,
    macVersion: body.macVersion ?? null,
    allowCounterReset: body.allowCounterReset ?? false, expectedIntervalS: body.expectedIntervalS ?? null,
  };
}
