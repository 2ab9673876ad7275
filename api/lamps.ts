/**
 * Street lamps for operators: switch or dim one lamp or every lamp of a zone. A command
 * is an application downlink per lamp controller (the object { lamp_on, dim_level } that
 * the controller's model encodes), sent by whichever path the controller uses; the
 * lamp's next uplink confirms it: `confirmed` once a report newer than the command's
 * transmission shows the commanded state, `not_confirmed` when the newer report shows
 * another, `pending` until then.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { selectLamps, type LampRow } from '../storage/index.js';
import type { ApiContext } from './app.js';
import { requireRole } from './auth.js';
import type { DownlinkRequests } from './downlink-requests.js';
import { downlinkOut, DownlinkItem } from './downlinks.js';
import { HttpError, notFound } from './errors.js';
import { AssetId } from './registry-schemas.js';
import { ErrorResponse } from './schemas.js';

const LampCommand = Type.Object({
  lamp_on: Type.Boolean(),
  dim_level: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: '%; default 100 when on, 0 when off' })),
}, { additionalProperties: false });

const Lamp = Type.Object({
  assetId: Type.String(), name: Type.Union([Type.String(), Type.Null()]), zone: Type.Union([Type.String(), Type.Null()]),
  latitude: Type.Union([Type.Number(), Type.Null()]), longitude: Type.Union([Type.Number(), Type.Null()]), devEui: Type.String(),
  reported: Type.Union([Type.Object({ lampOn: Type.Union([Type.Boolean(), Type.Null()]), dimLevel: Type.Union([Type.Number(), Type.Null()]), at: Type.String() }), Type.Null()]),
  command: Type.Union([Type.Object({
    id: Type.Integer(), lampOn: Type.Boolean(), dimLevel: Type.Number(), state: Type.String(), txStatus: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String(), sentAt: Type.Union([Type.String(), Type.Null()]),
    confirmation: Type.Union([Type.Literal('pending'), Type.Literal('confirmed'), Type.Literal('not_confirmed'), Type.Literal('failed')]),
  }), Type.Null()]),
});

const CommandResult = Type.Object({
  queued: Type.Array(DownlinkItem),
  failed: Type.Array(Type.Object({ devEui: Type.String(), assetId: Type.String(), message: Type.String() })),
});

export function lampOut(l: LampRow) {
  const reported = l.reportedAt ? { lampOn: l.reportedOn === null ? null : l.reportedOn === 1, dimLevel: l.reportedDim, at: l.reportedAt.toISOString() } : null;
  let command = null;
  if (l.commandId !== null && l.command && l.commandCreatedAt) {
    const lampOn = l.command.lamp_on === true;
    const dimLevel = typeof l.command.dim_level === 'number' ? l.command.dim_level : lampOn ? 100 : 0;
    const after = reported && l.commandSentAt && new Date(reported.at) > l.commandSentAt;
    const matches = reported?.lampOn === lampOn && (!lampOn || reported.dimLevel === dimLevel);
    const confirmation = l.commandState === 'failed' ? 'failed' as const : after ? (matches ? 'confirmed' as const : 'not_confirmed' as const) : 'pending' as const;
    command = {
      id: l.commandId, lampOn, dimLevel, state: l.commandState ?? 'queued', txStatus: l.commandTxStatus,
      createdAt: l.commandCreatedAt.toISOString(), sentAt: l.commandSentAt?.toISOString() ?? null, confirmation,
    };
  }
  return { assetId: l.assetId, name: l.name, zone: l.zone, latitude: l.latitude, longitude: l.longitude, devEui: l.devEui, reported, command };
}

export const lampRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext; requests: DownlinkRequests }> = async (app, { ctx, requests }) => {
  const operator = requireRole('operator');
  const security = [{ apiKey: [] }];
  const audit = (request: FastifyRequest, action: string, target: string, detail: Record<string, unknown> | null = null): void => {
    ctx.audit.record({ actor: request.principal?.name ?? 'anonymous', role: request.principal?.role ?? null, action, target, detail, remoteAddr: request.ip });
  };

  /** Queues the command for every controller; a controller that cannot take it is reported, the others still get it. */
  const command = async (request: FastifyRequest, lamps: LampRow[], body: { lamp_on: boolean; dim_level?: number }) => {
    const object = { lamp_on: body.lamp_on, dim_level: body.dim_level ?? (body.lamp_on ? 100 : 0) };
    const out: { queued: ReturnType<typeof downlinkOut>[]; failed: { devEui: string; assetId: string; message: string }[] } = { queued: [], failed: [] };
    for (const lamp of lamps) {
      try {
        out.queued.push(downlinkOut(await requests.queue(lamp.devEui, { object }, request.principal?.name ?? 'anonymous')));
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        out.failed.push({ devEui: lamp.devEui, assetId: lamp.assetId, message: error.message });
      }
    }
    return out;
  };

  app.get('/api/v1/lamps', {
    preHandler: operator,
    schema: {
      tags: ['lamps'], summary: 'Street lamps with a controller: reported state and latest command', security,
      querystring: Type.Object({ zone: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })), limit: Type.Integer({ minimum: 1, maximum: 5000, default: 1000 }) }),
      response: { 200: Type.Object({ items: Type.Array(Lamp) }) },
    },
  }, async (request) => {
    audit(request, 'lamp.list', request.query.zone ?? 'lamps');
    return { items: (await selectLamps(ctx.pool, { zone: request.query.zone ?? null, assetId: null, limit: request.query.limit })).map(lampOut) };
  });

  app.post('/api/v1/lamps/:assetId/command', {
    preHandler: operator,
    schema: {
      tags: ['lamps'], summary: 'Switch or dim one street lamp', security,
      params: Type.Object({ assetId: AssetId }), body: LampCommand,
      response: { 202: CommandResult, 400: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse },
    },
  }, async (request, reply) => {
    const lamps = await selectLamps(ctx.pool, { zone: null, assetId: request.params.assetId, limit: 100 });
    if (lamps.length === 0) throw notFound(`street lamp ${request.params.assetId} with a controller`);
    const result = await command(request, lamps, request.body);
    audit(request, 'lamp.command', request.params.assetId, { ...request.body, queued: result.queued.length, failed: result.failed.length });
    if (result.queued.length === 0) throw new HttpError(422, 'STADTFUNK_ERR_ENCODE', result.failed.map((f) => `${f.devEui}: ${f.message}`).join('; '));
    return reply.status(202).send(result);
  });

  app.post('/api/v1/zones/:zone/lamps/command', {
    preHandler: operator,
    schema: {
      tags: ['lamps'], summary: 'Switch or dim every street lamp of a zone', security,
      params: Type.Object({ zone: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) }), body: LampCommand,
      response: { 202: CommandResult, 404: ErrorResponse },
    },
  }, async (request, reply) => {
    const lamps = await selectLamps(ctx.pool, { zone: request.params.zone, assetId: null, limit: 5000 });
    if (lamps.length === 0) throw notFound(`street lamps with a controller in zone ${request.params.zone}`);
    const result = await command(request, lamps, request.body);
    audit(request, 'lamp.command', `zone:${request.params.zone}`, { ...request.body, queued: result.queued.length, failed: result.failed.length });
    return reply.status(202).send(result);
  });
};
