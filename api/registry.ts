/**
 * The registry for field technicians: assets, device models and devices. Every change
 * is audited. ABP keys are accepted, sealed with the master key and never returned
 * (responses say only whether a key is set). DevEUI/JoinEUI may come as a TR005 QR string.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { builtinDecoderNames, checkExamples, CodecRunner, proposeForExamples, runCodecExamples, type CodecExample, type ModelCategory } from '../decoders/index.js';
import { createKeyVault } from '../ingest/lorawan/index.js';
import {
  decommissionAsset, decommissionDevice, inTransaction, moveDevice, selectAsset, selectAssets, selectDevice, selectDeviceModel,
  selectDeviceModels, selectDeviceMounts, selectDevices, upsertAsset, upsertDevice, upsertDeviceModel,
  type AssetRow, type DeviceModelRow, type DeviceRow,
} from '../storage/index.js';
import type { ApiContext } from './app.js';
import { requireRole } from './auth.js';
import { prepareDevice as prepareDeviceRow, resolveIds } from './device-input.js';
import { badRequest, HttpError, notFound } from './errors.js';
import { assertPosition } from './position.js';
import { importDevicesCsv } from './registry-import.js';
import { AfterCursor, NextLink, nextPage } from './paging.js';
import { DevEui, ErrorResponse, StringEnum } from './schemas.js';
import { Asset, AssetId, AssetInput, AssetPatch, ASSET_KINDS, Device, DeviceInput, ModelId, ModelInput, ModelOutput, type DeviceInputT } from './registry-schemas.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
export const assetOut = (a: AssetRow) => ({ ...a, decommissionedAt: iso(a.decommissionedAt), createdAt: a.createdAt.toISOString(), updatedAt: a.updatedAt.toISOString() });
// Explicit fields: nothing of the row that is not in the schema can leak (no notes, no keys).
export const deviceOut = (d: DeviceRow) => ({
  devEui: d.devEui, name: d.name, modelId: d.modelId, assetId: d.assetId, joinEui: d.joinEui, devAddr: d.devAddr,
  nwkSKeySet: d.nwkSKeySet, appSKeySet: d.appSKeySet, allowCounterReset: d.allowCounterReset, fCntUp: d.fCntUp,
  appKeySet: d.appKeySet, macVersion: d.macVersion, joinPending: d.joinPending,
  expectedIntervalS: d.expectedIntervalS, lastSeenAt: iso(d.lastSeenAt), decommissionedAt: iso(d.decommissionedAt),
  createdAt: d.createdAt.toISOString(), updatedAt: d.updatedAt.toISOString(),
});

export const registryRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const vault = ctx.masterKey ? createKeyVault(ctx.masterKey) : null;
  const technician = requireRole('technician');
  const staffRead = requireRole('technician', 'operator');
  const audit = (request: FastifyRequest, action: string, target: string, detail: Record<string, unknown> | null = null): void => {
    ctx.audit.record({ actor: request.principal?.name ?? 'anonymous', role: request.principal?.role ?? null, action, target, detail, remoteAddr: request.ip });
  };
  // Reads are condensed per reader, address, target and hour (api/audit-log.ts).
  const auditRead = (request: FastifyRequest, action: string, target: string): void => {
    ctx.audit.read({ actor: request.principal?.name ?? 'anonymous', role: request.principal?.role ?? null, action, target, remoteAddr: request.ip });
  };
  const security = [{ apiKey: [] }];
  // Submitted codecs run in a worker of their own: a hostile one is stopped there and
  // cannot hold up this thread, ingest's codec worker or the service's memory.
  let codecs: CodecRunner | null = null;
  app.addHook('onClose', async () => codecs?.close());

  // ---- assets --------------------------------------------------------------------
  app.post('/api/v1/assets', {
    preHandler: technician,
    schema: { tags: ['registry'], summary: 'Register an asset (street lamp, parking bay, garage, counting site, water gauge)', security, body: AssetInput, response: { 201: Asset, 400: ErrorResponse, 409: ErrorResponse } },
  }, async (request, reply) => {
    assertPosition(ctx.city, request.body.latitude, request.body.longitude);
    if (await selectAsset(ctx.pool, request.body.id)) throw new HttpError(409, 'STADTFUNK_ERR_ASSET_EXISTS', `id: asset ${request.body.id} exists already (use PATCH to change it)`, { details: { field: 'id', id: request.body.id } });
    await upsertAsset(ctx.pool, request.body);
    audit(request, 'asset.create', request.body.id, { kind: request.body.kind, zone: request.body.zone ?? null });
    return reply.status(201).send(assetOut((await selectAsset(ctx.pool, request.body.id))!));
  });

  app.get('/api/v1/assets', {
    preHandler: staffRead,
    schema: {
      tags: ['registry'], summary: 'List assets', security,
      querystring: Type.Object({ kind: Type.Optional(StringEnum(ASSET_KINDS)), zone: Type.Optional(Type.String()), after: AfterCursor, limit: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }) }),
      response: { 200: Type.Object({ items: Type.Array(Asset), next: NextLink }) },
    },
  }, async (request, reply) => {
    const q = request.query;
    const rows = await selectAssets(ctx.pool, { kind: q.kind ?? null, zone: q.zone ?? null, after: q.after ?? null, limit: q.limit });
    auditRead(request, 'asset.list', request.url);
    return { items: rows.map(assetOut), next: nextPage(request, reply, ctx.publicUrl, rows.length === q.limit ? rows[rows.length - 1]!.id : null) };
  });

  app.get('/api/v1/assets/:id', {
    preHandler: staffRead,
    schema: { tags: ['registry'], summary: 'One asset with its devices', security, params: Type.Object({ id: AssetId }), response: { 200: Type.Intersect([Asset, Type.Object({ devices: Type.Array(Device) })]), 404: ErrorResponse } },
  }, async (request) => {
    const asset = await selectAsset(ctx.pool, request.params.id);
    if (!asset) throw notFound(`asset ${request.params.id}`, 'GET /api/v1/assets');
    auditRead(request, 'asset.read', asset.id);
    const devices = await selectDevices(ctx.pool, { assetId: asset.id, modelId: null, after: null, limit: 1000 });
    return { ...assetOut(asset), devices: devices.map(deviceOut) };
  });

  app.patch('/api/v1/assets/:id', {
    preHandler: technician,
    schema: { tags: ['registry'], summary: 'Change an asset (move it, rename it, publish it)', security, params: Type.Object({ id: AssetId }), body: AssetPatch, response: { 200: Asset, 400: ErrorResponse, 404: ErrorResponse } },
  }, async (request) => {
    const current = await selectAsset(ctx.pool, request.params.id);
    if (!current) throw notFound(`asset ${request.params.id}`, 'GET /api/v1/assets');
    const next = { ...current, ...request.body, id: current.id } as Parameters<typeof upsertAsset>[1];
    if ('latitude' in request.body || 'longitude' in request.body) assertPosition(ctx.city, next.latitude, next.longitude);
    await upsertAsset(ctx.pool, next);
    audit(request, 'asset.update', current.id, { fields: Object.keys(request.body) });
    return assetOut((await selectAsset(ctx.pool, current.id))!);
  });

  app.post('/api/v1/assets/:id/decommission', {
    preHandler: technician,
    schema: { tags: ['registry'], summary: 'Decommission an asset (history and data are kept)', security, params: Type.Object({ id: AssetId }), response: { 200: Asset, 404: ErrorResponse } },
  }, async (request) => {
    if (!(await selectAsset(ctx.pool, request.params.id))) throw notFound(`asset ${request.params.id}`, 'GET /api/v1/assets');
    await decommissionAsset(ctx.pool, request.params.id);
    audit(request, 'asset.decommission', request.params.id);
    return assetOut((await selectAsset(ctx.pool, request.params.id))!);
  });

  // ---- device models -------------------------------------------------------------
  /** A stored model as the registry answers (codec scripts included: technicians and operators only). */
  const modelOut = (m: DeviceModelRow) => {
    const examples = Array.isArray(m.examples) ? m.examples : [];
    const datas = examples.map((e) => (e as CodecExample).output?.data).filter((d): d is Record<string, unknown> => d !== null && typeof d === 'object' && !Array.isArray(d));
    const proposal = m.decoderKind === 'codec' ? proposeForExamples(datas, (m.category as ModelCategory | null) ?? null) : null;
    return {
      id: m.id, name: m.name,
      decoder: m.decoderKind === 'builtin' ? { kind: 'builtin' as const, name: m.builtinName ?? '' } : { kind: 'codec' as const, script: m.codecScript ?? '' },
      mapping: (m.mapping ?? []) as never, examples, ...(m.expectedIntervalS !== null ? { expectedIntervalS: m.expectedIntervalS } : {}),
      ...(m.batteryLowVolts !== null ? { batteryLowVolts: m.batteryLowVolts } : {}), ...(m.batteryLowPercent !== null ? { batteryLowPercent: m.batteryLowPercent } : {}),
      category: (m.category as ModelCategory | null) ?? null,
      verified: m.decoderKind === 'builtin' || examples.length > 0,
      proposal: proposal ? { mapping: proposal.mapping as never, left: proposal.left } : null,
      source: m.source ?? null,
    };
  };

  app.put('/api/v1/device-models/:id', {
    preHandler: technician,
    schema: {
      tags: ['registry'], security,
      summary: 'Create or replace a device model (built-in decoder or sandboxed codec; a codec is refused unless its examples pass exactly; without examples it is marked unverified)',
      params: Type.Object({ id: ModelId }), body: ModelInput, response: { 200: ModelOutput, 400: ErrorResponse, 422: ErrorResponse },
    },
  }, async (request) => {
    const m = request.body;
    if (m.id !== request.params.id) throw badRequest(`id: ${m.id} does not match the path's ${request.params.id}`);
    if (m.decoder.kind === 'builtin' && !builtinDecoderNames().includes(m.decoder.name)) {
      throw badRequest(`decoder.name: unknown built-in decoder "${m.decoder.name}" (known: ${builtinDecoderNames().join(', ')})`);
    }
    let examples: CodecExample[] = [];
    if (m.decoder.kind === 'codec' && m.examples && m.examples.length > 0) {
      // A codec is accepted only when all its examples pass, in a worker of the registry's own.
      try {
        examples = checkExamples(m.examples);
      } catch (error) {
        throw badRequest(`examples: ${(error as Error).message}`);
      }
      codecs ??= new CodecRunner();
      const runner = codecs;
      const failed = (await runCodecExamples((script, input, options) => runner.decode(script, input, options), m.decoder.script, examples)).filter((r) => !r.passed);
      if (failed.length > 0) throw new HttpError(422, 'STADTFUNK_ERR_CODEC_EXAMPLES', `examples: ${failed.length} failed, first "${failed[0]!.description}": ${failed[0]!.problem}`);
    }
    const datas = examples.map((e) => e.output.data).filter((d): d is Record<string, unknown> => d !== null && typeof d === 'object' && !Array.isArray(d));
    const proposal = m.decoder.kind === 'codec' ? proposeForExamples(datas, m.category ?? null) : null;
    await upsertDeviceModel(ctx.pool, {
      id: m.id, name: m.name, decoderKind: m.decoder.kind,
      builtinName: m.decoder.kind === 'builtin' ? m.decoder.name : null, codecScript: m.decoder.kind === 'codec' ? m.decoder.script : null,
      mapping: m.mapping ?? [], examples: m.examples ?? [], expectedIntervalS: m.expectedIntervalS ?? null,
      batteryLowVolts: m.batteryLowVolts ?? null, batteryLowPercent: m.batteryLowPercent ?? null,
      category: m.category ?? proposal?.category ?? null, mappingNotes: proposal?.left ?? [],
    });
    audit(request, 'device_model.put', m.id, { decoder: m.decoder.kind, verified: m.decoder.kind === 'builtin' || examples.length > 0 });
    return modelOut((await selectDeviceModel(ctx.pool, m.id))!);
  });

  app.get('/api/v1/device-models/:id', {
    preHandler: staffRead,
    schema: { tags: ['registry'], summary: 'One device model with its proposal: which fields of its examples become which metrics, which are left and why', security, params: Type.Object({ id: ModelId }), response: { 200: ModelOutput, 404: ErrorResponse } },
  }, async (request) => {
    const m = await selectDeviceModel(ctx.pool, request.params.id);
    if (!m) throw notFound(`device model ${request.params.id}`);
    return modelOut(m);
  });

  app.get('/api/v1/device-models', {
    preHandler: staffRead,
    schema: {
      tags: ['registry'], summary: 'List device models (a codec without examples is unverified)', security,
      response: { 200: Type.Object({ items: Type.Array(Type.Object({
        id: Type.String(), name: Type.String(), decoderKind: Type.String(), builtinName: Type.Union([Type.String(), Type.Null()]), expectedIntervalS: Type.Union([Type.Integer(), Type.Null()]),
        category: Type.Union([Type.String(), Type.Null()]), verified: Type.Boolean(), examples: Type.Integer(), imported: Type.Boolean(),
        batteryLowVolts: Type.Union([Type.Number(), Type.Null()]), batteryLowPercent: Type.Union([Type.Number(), Type.Null()]),
      })) }) },
    },
  }, async () => ({
    items: (await selectDeviceModels(ctx.pool)).map((m) => ({
      id: m.id, name: m.name, decoderKind: m.decoderKind, builtinName: m.builtinName, expectedIntervalS: m.expectedIntervalS,
      category: m.category, verified: m.decoderKind === 'builtin' || (Array.isArray(m.examples) && m.examples.length > 0),
      examples: Array.isArray(m.examples) ? m.examples.length : 0, imported: m.source !== null,
      batteryLowVolts: m.batteryLowVolts, batteryLowPercent: m.batteryLowPercent,
    })),
  }));

  // ---- devices -------------------------------------------------------------------
  const prepareDevice = (body: DeviceInputT, devEui: string, joinEui: string | null) => prepareDeviceRow(ctx.pool, vault, body, devEui, joinEui);

  app.post('/api/v1/devices', {
    preHandler: technician,
    schema: { tags: ['registry'], summary: 'Register a device (DevEUI or TR005 QR string; ABP keys are write-only)', security, body: DeviceInput, response: { 201: Device, 400: ErrorResponse, 409: ErrorResponse } },
  }, async (request, reply) => {
    const { devEui, joinEui } = resolveIds(request.body);
    if (await selectDevice(ctx.pool, devEui)) throw new HttpError(409, 'STADTFUNK_ERR_DEVICE_EXISTS', `devEui: device ${devEui} is registered already`, { details: { field: 'devEui', id: devEui } });
    await upsertDevice(ctx.pool, await prepareDevice(request.body, devEui, joinEui));
    ctx.onDeviceChanged?.(devEui);
    audit(request, 'device.create', devEui, { modelId: request.body.modelId, assetId: request.body.assetId ?? null, keys: Boolean(request.body.nwkSKey), otaa: Boolean(request.body.appKey) });
    return reply.status(201).send(deviceOut((await selectDevice(ctx.pool, devEui))!));
  });

  app.get('/api/v1/devices', {
    preHandler: staffRead,
    schema: {
      tags: ['registry'], summary: 'List devices', security,
      querystring: Type.Object({ assetId: Type.Optional(AssetId), modelId: Type.Optional(ModelId), after: AfterCursor, limit: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }) }),
      response: { 200: Type.Object({ items: Type.Array(Device), next: NextLink }) },
    },
  }, async (request, reply) => {
    const q = request.query;
    const rows = await selectDevices(ctx.pool, { assetId: q.assetId ?? null, modelId: q.modelId ?? null, after: q.after ?? null, limit: q.limit });
    auditRead(request, 'device.list', request.url);
    return { items: rows.map(deviceOut), next: nextPage(request, reply, ctx.publicUrl, rows.length === q.limit ? rows[rows.length - 1]!.devEui : null) };
  });

  app.get('/api/v1/devices/:devEui', {
    preHandler: staffRead,
    schema: { tags: ['registry'], summary: 'One device with its mount history', security, params: Type.Object({ devEui: DevEui }), response: { 200: Type.Intersect([Device, Type.Object({ mounts: Type.Array(Type.Object({ assetId: Type.String(), mountedAt: Type.String(), unmountedAt: Type.Union([Type.String(), Type.Null()]) })) })]), 404: ErrorResponse } },
  }, async (request) => {
    const devEui = request.params.devEui.toLowerCase();
    const device = await selectDevice(ctx.pool, devEui);
    if (!device) throw notFound(`device ${devEui}`, 'GET /api/v1/devices');
    auditRead(request, 'device.read', devEui);
    const mounts = await selectDeviceMounts(ctx.pool, devEui);
    return { ...deviceOut(device), mounts: mounts.map((m) => ({ assetId: m.assetId, mountedAt: m.mountedAt.toISOString(), unmountedAt: iso(m.unmountedAt) })) };
  });

  app.patch('/api/v1/devices/:devEui', {
    preHandler: technician,
    schema: { tags: ['registry'], summary: 'Change a device (name, model, keys…; keys stay write-only)', security, params: Type.Object({ devEui: DevEui }), body: Type.Partial(Type.Omit(DeviceInput, ['devEui', 'qr', 'assetId']), { additionalProperties: false }), response: { 200: Device, 400: ErrorResponse, 404: ErrorResponse } },
  }, async (request) => {
    const devEui = request.params.devEui.toLowerCase();
    const current = await selectDevice(ctx.pool, devEui);
    if (!current) throw notFound(`device ${devEui}`, 'GET /api/v1/devices');
    const merged: DeviceInputT = {
      modelId: request.body.modelId ?? current.modelId,
      ...(current.assetId ? { assetId: current.assetId } : {}),
      ...((request.body.devAddr ?? current.devAddr) ? { devAddr: (request.body.devAddr ?? current.devAddr)! } : {}),
      ...(request.body.nwkSKey ? { nwkSKey: request.body.nwkSKey } : {}),
      ...(request.body.appSKey ? { appSKey: request.body.appSKey } : {}),
      ...(request.body.appKey ? { appKey: request.body.appKey } : {}),
      ...(request.body.macVersion ? { macVersion: request.body.macVersion } : {}),
      ...((request.body.name ?? current.name) !== null ? { name: (request.body.name ?? current.name)! } : {}),
      allowCounterReset: request.body.allowCounterReset ?? current.allowCounterReset,
      ...((request.body.expectedIntervalS ?? current.expectedIntervalS) !== null ? { expectedIntervalS: (request.body.expectedIntervalS ?? current.expectedIntervalS)! } : {}),
    };
    await upsertDevice(ctx.pool, await prepareDevice(merged, devEui, request.body.joinEui?.toLowerCase() ?? current.joinEui));
    ctx.onDeviceChanged?.(devEui);
    audit(request, 'device.update', devEui, { fields: Object.keys(request.body).map((f) => f) });
    return deviceOut((await selectDevice(ctx.pool, devEui))!);
  });

  app.post('/api/v1/devices/:devEui/move', {
    preHandler: technician,
    schema: { tags: ['registry'], summary: 'Mount a device on another asset (history kept)', security, params: Type.Object({ devEui: DevEui }), body: Type.Object({ assetId: AssetId }, { additionalProperties: false }), response: { 200: Device, 400: ErrorResponse, 404: ErrorResponse } },
  }, async (request) => {
    const devEui = request.params.devEui.toLowerCase();
    if (!(await selectDevice(ctx.pool, devEui))) throw notFound(`device ${devEui}`, 'GET /api/v1/devices');
    if (!(await selectAsset(ctx.pool, request.body.assetId))) throw badRequest(`assetId: no asset ${request.body.assetId}`);
    await inTransaction(ctx.pool, (client) => moveDevice(client, devEui, request.body.assetId));
    ctx.onDeviceChanged?.(devEui);
    audit(request, 'device.move', devEui, { assetId: request.body.assetId });
    return deviceOut((await selectDevice(ctx.pool, devEui))!);
  });

  app.post('/api/v1/devices/:devEui/decommission', {
    preHandler: technician,
    schema: { tags: ['registry'], summary: 'Decommission a device (its data is kept)', security, params: Type.Object({ devEui: DevEui }), response: { 200: Device, 404: ErrorResponse } },
  }, async (request) => {
    const devEui = request.params.devEui.toLowerCase();
    if (!(await selectDevice(ctx.pool, devEui))) throw notFound(`device ${devEui}`, 'GET /api/v1/devices');
    await inTransaction(ctx.pool, (client) => decommissionDevice(client, devEui));
    ctx.onDeviceChanged?.(devEui);
    audit(request, 'device.decommission', devEui);
    return deviceOut((await selectDevice(ctx.pool, devEui))!);
  });

  // ---- bulk import ---------------------------------------------------------------
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: 5 * 1024 * 1024 }, (_request, body, done) => done(null, body));
  app.post('/api/v1/devices/import', {
    preHandler: technician,
    schema: {
      tags: ['registry'], summary: 'Import devices (and their assets) from CSV; good rows are imported, bad rows reported', security,
      consumes: ['text/csv'],
      body: Type.String({ description: 'CSV with a header row: devEui or qr, joinEui, modelId, assetId, assetKind, latitude, longitude, zone, name, devAddr, nwkSKey, appSKey (ABP) or appKey, macVersion (OTAA)' }),
      response: { 200: Type.Object({ imported: Type.Integer(), failed: Type.Integer(), problems: Type.Array(Type.Object({ row: Type.Integer(), field: Type.String(), problem: Type.String() })) }), 400: ErrorResponse },
    },
  }, async (request) => {
    const report = await importDevicesCsv(request.body, {
      pool: ctx.pool,
      city: ctx.city,
      prepare: async (row) => {
        const ids = resolveIds(row.device);
        return prepareDevice(row.device, ids.devEui, ids.joinEui);
      },
    });
    for (const devEui of report.devEuis) ctx.onDeviceChanged?.(devEui);
    audit(request, 'device.import', 'devices', { imported: report.imported, failed: report.failed });
    return { imported: report.imported, failed: report.failed, problems: report.problems };
  });
};
