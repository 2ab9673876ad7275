/**
 * Admin: API keys (created, listed, revoked; a key's secret is shown once), the audit
 * log, dead letters (with the raw message) and the status overview of the platform.
 */
import { Type } from '@sinclair/typebox';
import { register } from 'prom-client';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  countDeadLettersByReason, revokeApiKey, selectCompressionState, selectApiKeys, selectAuditEntries, selectConcentrators, selectDatabaseSize,
  selectDeadLetters, selectLowBatteries, selectSilentDevices,
} from '../storage/index.js';
import type { ApiContext } from './app.js';
import { createApiKey, requireRole, ROLES } from './auth.js';
import { notFound } from './errors.js';
import { ErrorResponse } from './schemas.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const adminRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.addHook('preHandler', requireRole());
  const security = [{ apiKey: [] }];
  const tags = ['admin'];
  const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));

  app.post('/api/v1/api-keys', {
    schema: {
      tags, security, summary: 'Create an API key (its secret is in this answer only)',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), role: Role }, { additionalProperties: false }),
      response: { 201: Type.Object({ id: Type.String(), name: Type.String(), role: Type.String(), key: Type.String() }), 400: ErrorResponse },
    },
  }, async (request, reply) => {
    const { id, key } = await createApiKey(ctx.pool, request.body.name, request.body.role);
    ctx.audit.record({ actor: request.principal!.name, role: 'admin', action: 'api_key.create', target: id, detail: { name: request.body.name, role: request.body.role }, remoteAddr: request.ip });
    return reply.status(201).send({ id, name: request.body.name, role: request.body.role, key });
  });

  app.get('/api/v1/api-keys', {
    schema: { tags, security, summary: 'List API keys (never their secrets)', response: { 200: Type.Object({ items: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), role: Type.String(), createdAt: Type.String(), revokedAt: Type.Union([Type.String(), Type.Null()]) })) }) } },
  }, async () => ({ items: (await selectApiKeys(ctx.pool)).map((k) => ({ id: k.id, name: k.name, role: k.role, createdAt: k.createdAt.toISOString(), revokedAt: iso(k.revokedAt) })) }));

  app.delete('/api/v1/api-keys/:id', {
    schema: { tags, security, summary: 'Revoke an API key', params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{12}$' }) }), response: { 204: Type.Null(), 404: ErrorResponse } },
  }, async (request, reply) => {
    if (!(await revokeApiKey(ctx.pool, request.params.id))) throw notFound(`active API key ${request.params.id}`);
    ctx.keys.forget();
    ctx.audit.record({ actor: request.principal!.name, role: 'admin', action: 'api_key.revoke', target: request.params.id, detail: null, remoteAddr: request.ip });
    return reply.status(204).send(null);
  });

  app.get('/api/v1/audit', {
    schema: {
      tags, security, summary: 'Audit log, newest first',
      querystring: Type.Object({ before: Type.Optional(Type.Integer({ minimum: 1 })), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }),
      response: { 200: Type.Object({ items: Type.Array(Type.Object({ id: Type.Integer(), at: Type.String(), actor: Type.String(), role: Type.Union([Type.String(), Type.Null()]), action: Type.String(), target: Type.Union([Type.String(), Type.Null()]), detail: Type.Unknown(), remoteAddr: Type.Union([Type.String(), Type.Null()]) })), next: Type.Union([Type.Integer(), Type.Null()]) }) },
    },
  }, async (request) => {
    await ctx.audit.flush();
    const rows = await selectAuditEntries(ctx.pool, request.query.before ?? null, request.query.limit);
    return { items: rows.map((r) => ({ ...r, at: r.at.toISOString() })), next: rows.length === request.query.limit ? rows[rows.length - 1]!.id : null };
  });

  app.get('/api/v1/dead-letters', {
    schema: {
      tags, security, summary: 'Dead letters with reason and the raw message (base64), newest first',
      querystring: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 64 })), before: Type.Optional(Type.Integer({ minimum: 1 })), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }),
      response: { 200: Type.Object({ byReason: Type.Array(Type.Object({ reason: Type.String(), count: Type.Integer(), last: Type.String() })), items: Type.Array(Type.Object({ id: Type.Integer(), receivedAt: Type.String(), topic: Type.String(), reason: Type.String(), detail: Type.Union([Type.String(), Type.Null()]), devEui: Type.Union([Type.String(), Type.Null()]), payloadBase64: Type.String() })) }) },
    },
  }, async (request) => {
    const q = request.query;
    const [byReason, rows] = await Promise.all([countDeadLettersByReason(ctx.pool), selectDeadLetters(ctx.pool, { reason: q.reason ?? null, beforeId: q.before ?? null, limit: q.limit })]);
    ctx.audit.record({ actor: request.principal!.name, role: 'admin', action: 'dead_letters.read', target: q.reason ?? null, detail: null, remoteAddr: request.ip });
    return {
      byReason: byReason.map((r) => ({ ...r, last: r.last.toISOString() })),
      items: rows.map((r) => ({ id: r.id, receivedAt: r.receivedAt.toISOString(), topic: r.topic, reason: r.reason, detail: r.detail, devEui: r.devEui, payloadBase64: r.payload.toString('base64') })),
    };
  });

  // Prometheus text format; scrapers send an admin key as a bearer token.
  app.get('/metrics', { schema: { tags, security, summary: 'Prometheus metrics (stadtfunk_<stage>_<noun>_<unit|total>)' } }, async (_request, reply) => {
    reply.type(register.contentType);
    return register.metrics();
  });

  app.get('/api/v1/ops/status', {
    schema: { tags, security, summary: 'Status overview: concentrators, silent devices, low batteries, database size' },
  }, async () => {
    const [concentrators, silent, batteries, size, status, metrics, deadLetters] = await Promise.all([
      selectConcentrators(ctx.pool), selectSilentDevices(ctx.pool, 200), selectLowBatteries(ctx.pool, 200), selectDatabaseSize(ctx.pool), ctx.status(),
      register.getMetricsAsJSON(), countDeadLettersByReason(ctx.pool),
    ]);
    const compression = await selectCompressionState(ctx.pool, ctx.timescale ?? false).catch(() => []);
    type Value = { value: number; metricName?: string };
    const values = (name: string): Value[] => (metrics.find((m) => m.name === name)?.values ?? []) as Value[];
    const sum = (name: string): number => values(name).reduce((t, v) => t + Number(v.value), 0);
    const histogram = (name: string, suffix: string): number => Number(values(name).find((v) => v.metricName?.endsWith(suffix))?.value ?? 0);
    return {
      service: status,
      ingest: {
        messages: sum('stadtfunk_ingest_messages_total'),
        uplinks: sum('stadtfunk_ingest_uplinks_total'),
        readings: sum('stadtfunk_ingest_readings_total'),
        dropped: sum('stadtfunk_ingest_dropped_total'),
        batchSecondsSum: histogram('stadtfunk_storage_batch_duration_seconds', '_sum'),
        batchCount: histogram('stadtfunk_storage_batch_duration_seconds', '_count'),
      },
      deadLetters: deadLetters.map((d) => ({ ...d, last: d.last.toISOString() })),
      concentrators: concentrators.map((c) => ({ ...c, lastSeenAt: iso(c.lastSeenAt) })),
      silentDevices: silent.map((d) => ({ ...d, lastSeenAt: iso(d.lastSeenAt) })),
      lowBatteries: batteries.map((b) => ({ ...b, time: b.time.toISOString() })),
      database: { ...size, timescale: ctx.timescale ?? false, compression },
    };
  });
};
