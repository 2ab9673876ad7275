/**
 * Application downlinks per device (class A): operators (and admins) queue raw bytes on
 * an FPort or an object the device model encodes; everyone on staff sees each one's
 * delivery state (queued, sent, acknowledged, failed). Queuing and cancelling are
 * audited, like every non-public write; so are the reads.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { cancelQueueItem, selectDevice, selectQueueItems, selectRecentQueueItems, type QueueItemRow } from '../storage/index.js';
import type { ApiContext } from './app.js';
import { requireRole } from './auth.js';
import { DownlinkRequests } from './downlink-requests.js';
import { HttpError, notFound } from './errors.js';
import { DevEui, ErrorResponse } from './schemas.js';

export const DownlinkItem = Type.Object({
  id: Type.Integer(),
  devEui: Type.String(),
  fPort: Type.Integer(),
  dataBase64: Type.String(),
  confirmed: Type.Boolean(),
  object: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  route: Type.String({ description: 'concentrator (stadtfunk sends it), chirpstack or tts (handed to that network server)' }),
  state: Type.Union([Type.Literal('queued'), Type.Literal('sent'), Type.Literal('acknowledged'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  fCntDown: Type.Union([Type.Integer(), Type.Null()], { description: 'the 32-bit downlink frame counter it went out with (concentrator route)' }),
  txStatus: Type.Union([Type.String(), Type.Null()], { description: 'OK once a gateway sent it; otherwise the gateway bridge\'s refusal, NO_ACK when none answered (lost)' }),
  error: Type.Union([Type.String(), Type.Null()]),
  requestedBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  sentAt: Type.Union([Type.String(), Type.Null()]),
  acknowledgedAt: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String(),
});

export const DownlinkInput = Type.Object({
  fPort: Type.Optional(Type.Integer({ description: '1–223; with object, the encoder may choose it' })),
  data: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: 344, description: 'payload as base64' })),
  hex: Type.Optional(Type.String({ pattern: '^([0-9a-fA-F]{2})*$', maxLength: 484, description: 'payload as hex' })),
  object: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'encoded by the device model (TS013 encodeDownlink, or the built-in format)' })),
  confirmed: Type.Optional(Type.Boolean({ description: 'the device acknowledges it in its next uplink' })),
}, { additionalProperties: false });

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
export const downlinkOut = (q: QueueItemRow) => ({
  id: q.id, devEui: q.devEui, fPort: q.fPort, dataBase64: q.payload.toString('base64'), confirmed: q.confirmed, object: q.object, route: q.route,
  state: q.state, attempts: q.attempts, fCntDown: q.fCntDown, txStatus: q.txStatus, error: q.error, requestedBy: q.requestedBy,
  createdAt: q.createdAt.toISOString(), sentAt: iso(q.sentAt), acknowledgedAt: iso(q.acknowledgedAt), updatedAt: q.updatedAt.toISOString(),
});

export const downlinkRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext; requests: DownlinkRequests }> = async (app, { ctx, requests }) => {
  const operator = requireRole('operator');
  const staffRead = requireRole('technician', 'operator');
  const security = [{ apiKey: [] }];
  const audit = (request: FastifyRequest, action: string, target: string, detail: Record<string, unknown> | null = null): void => {
    ctx.audit.record({ actor: request.principal?.name ?? 'anonymous', role: request.principal?.role ?? null, action, target, detail, remoteAddr: request.ip });
  };

  app.post('/api/v1/devices/:devEui/downlinks', {
    preHandler: operator,
    schema: {
      tags: ['downlinks'], summary: 'Queue an application downlink (sent in the device\'s next receive window)', security,
      params: Type.Object({ devEui: DevEui }), body: DownlinkInput,
      response: { 201: DownlinkItem, 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse },
    },
  }, async (request, reply) => {
    const devEui = request.params.devEui.toLowerCase();
    const item = await requests.queue(devEui, request.body, request.principal?.name ?? 'anonymous');
    audit(request, 'downlink.queue', devEui, { id: item.id, fPort: item.fPort, bytes: item.payload.length, confirmed: item.confirmed, object: request.body.object ?? null });
    return reply.status(201).send(downlinkOut(item));
  });

  app.get('/api/v1/devices/:devEui/downlinks', {
    preHandler: staffRead,
    schema: {
      tags: ['downlinks'], summary: 'A device\'s downlinks and their delivery state, newest first', security,
      params: Type.Object({ devEui: DevEui }),
      querystring: Type.Object({ before: Type.Optional(Type.Integer({ minimum: 1 })), limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }),
      response: { 200: Type.Object({ items: Type.Array(DownlinkItem), next: Type.Union([Type.Integer(), Type.Null()]) }), 404: ErrorResponse },
    },
  }, async (request) => {
    const devEui = request.params.devEui.toLowerCase();
    if (!(await selectDevice(ctx.pool, devEui))) throw notFound(`device ${devEui}`);
    const rows = await selectQueueItems(ctx.pool, devEui, request.query.before ?? null, request.query.limit);
    audit(request, 'downlink.list', devEui);
    return { items: rows.map(downlinkOut), next: rows.length === request.query.limit ? rows[rows.length - 1]!.id : null };
  });

  app.delete('/api/v1/devices/:devEui/downlinks/:id', {
    preHandler: operator,
    schema: {
      tags: ['downlinks'], summary: 'Take back a downlink that is still queued', security,
      params: Type.Object({ devEui: DevEui, id: Type.Integer({ minimum: 1 }) }),
      response: { 204: Type.Null(), 409: ErrorResponse },
    },
  }, async (request, reply) => {
    const devEui = request.params.devEui.toLowerCase();
    if (!(await cancelQueueItem(ctx.pool, devEui, request.params.id))) throw new HttpError(409, 'STADTFUNK_ERR_NOT_QUEUED', `id: downlink ${request.params.id} of ${devEui} is not queued (any more)`);
    audit(request, 'downlink.cancel', devEui, { id: request.params.id });
    return reply.status(204).send(null);
  });

  app.get('/api/v1/downlinks', {
    preHandler: staffRead,
    schema: {
      tags: ['downlinks'], summary: 'The latest downlinks of all devices (operations view)', security,
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }),
      response: { 200: Type.Object({ items: Type.Array(DownlinkItem) }) },
    },
  }, async (request) => {
    audit(request, 'downlink.list', 'downlinks');
    return { items: (await selectRecentQueueItems(ctx.pool, request.query.limit)).map(downlinkOut) };
  });
};
