/**
 * One registration at the lamp (issue 25): a new asset and the device mounted on it, or a
 * device on an existing asset, committed together or not at all. A technician who fixes a
 * wrong QR code and saves again finds nothing half-written from the first try; a position
 * that is missing, 0,0 or outside the city is refused before anything is written.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createKeyVault } from '../ingest/lorawan/index.js';
import { inTransaction, insertNewAsset, insertNewDevice, selectAsset, selectDevice, type AssetInput as AssetRowInput } from '../storage/index.js';
import type { ApiContext } from './app.js';
import { requireRole } from './auth.js';
import { prepareDevice, resolveIds } from './device-input.js';
import { badRequest, HttpError } from './errors.js';
import { assertPosition } from './position.js';
import { Asset, AssetInput, Device, DeviceInput } from './registry-schemas.js';
import { assetOut, deviceOut } from './registry.js';
import { ErrorResponse } from './schemas.js';

/**
 * A new asset as in POST /api/v1/assets, but its position may be missing so the answer can
 * say what to do. One schema with two types, not a union: with type coercion on, Ajv
 * turns null into 0 for a number branch tried first, and 0 into null the other way round.
 */
const Coordinate = (description: string) => Type.Optional(Type.Unsafe<number | null>({ type: ['number', 'null'], description }));
const NewAsset = Type.Object({
  ...AssetInput.properties,
  latitude: Coordinate('WGS84; must lie inside the city area (GET /api/v1/open/city)'),
  longitude: Coordinate('WGS84'),
}, { additionalProperties: false });

const assetExists = (id: string): HttpError => new HttpError(409, 'STADTFUNK_ERR_ASSET_EXISTS',
  `asset.id: asset ${id} exists already: choose it as the existing asset, or give the new asset another id`, { details: { field: 'asset.id', id } });
const deviceExists = (devEui: string): HttpError => new HttpError(409, 'STADTFUNK_ERR_DEVICE_EXISTS',
  `device.devEui: device ${devEui} is registered already: check the QR code, or open the device to move it`, { details: { field: 'device.qr', id: devEui } });

export const registrationRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const vault = ctx.masterKey ? createKeyVault(ctx.masterKey) : null;

  app.post('/api/v1/registrations', {
    preHandler: requireRole('technician'),
    schema: {
      tags: ['registry'], security: [{ apiKey: [] }],
      summary: 'Register a device and, optionally, the new asset it is mounted on: both or nothing',
      body: Type.Object({ device: DeviceInput, asset: Type.Optional(NewAsset) }, { additionalProperties: false }),
      response: { 201: Type.Object({ asset: Type.Union([Asset, Type.Null()]), device: Device }), 400: ErrorResponse, 409: ErrorResponse },
    },
  }, async (request, reply) => {
    const { device, asset } = request.body;
    const { devEui, joinEui } = resolveIds(device, 'device.');
    if (asset) {
      assertPosition(ctx.city, asset.latitude, asset.longitude, 'asset.');
      if (device.assetId && device.assetId !== asset.id) throw badRequest(`device.assetId: ${device.assetId} differs from the new asset's id ${asset.id}: leave it out`);
    }
    // Friendly answers before any work; the inserts below enforce the same against races.
    if (await selectDevice(ctx.pool, devEui)) throw deviceExists(devEui);
    if (asset && (await selectAsset(ctx.pool, asset.id))) throw assetExists(asset.id);
    const row = await prepareDevice(ctx.pool, vault, asset ? { ...device, assetId: asset.id } : device, devEui, joinEui, { field: 'device.', assetKnown: Boolean(asset) });
    await inTransaction(ctx.pool, async (client) => {
      if (asset && !(await insertNewAsset(client, asset as AssetRowInput))) throw assetExists(asset.id);
      if (!(await insertNewDevice(client, row))) throw deviceExists(devEui);
    });
    ctx.onDeviceChanged?.(devEui);
    const actor = { actor: request.principal?.name ?? 'anonymous', role: request.principal?.role ?? null, remoteAddr: request.ip };
    if (asset) ctx.audit.record({ ...actor, action: 'asset.create', target: asset.id, detail: { kind: asset.kind, zone: asset.zone ?? null, with: devEui } });
    ctx.audit.record({ ...actor, action: 'device.create', target: devEui, detail: { modelId: device.modelId, assetId: row.assetId ?? null, keys: Boolean(device.nwkSKey), otaa: Boolean(device.appKey) } });
    const storedAsset = asset ? await selectAsset(ctx.pool, asset.id) : null;
    return reply.status(201).send({ asset: storedAsset ? assetOut(storedAsset) : null, device: deviceOut((await selectDevice(ctx.pool, devEui))!) });
  });
};
