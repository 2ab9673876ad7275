/**
 * Admin: API keys (created, listed, revoked; a key's secret is shown once), the audit
 * log, dead letters (with the raw message) and the status overview of the platform.
 */
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { register } from 'prom-client';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  countDeadLettersByReason, revokeApiKey, selectCompressionState, selectApiKeys, selectAuditEntries, selectConcentrators, selectDatabaseSize,
  selectDeadLetters, selectDeadLetterSize, selectDeadLetterSlice, selectLowBatteries, selectSilentDevices,
} from '../storage/index.js';
import type { ApiContext } from './app.js';
import { createApiKey, requireRole, ROLES } from './auth.js';
import { notFound } from './errors.js';
import { NextLink, nextPage } from './paging.js';
import { ErrorResponse, StringEnum } from './schemas.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** Bytes of a dead letter's payload shown in a list by default, and at most. */
const DEAD_LETTER_PREVIEW = 256;
const DEAD_LETTER_PREVIEW_MAX = 4096;
/**
 * A download reads this many bytes per query: the service holds about one chunk per
 * download. Small enough that a chunk is garbage of the young generation (V8 puts
 * objects over about 512 KB in large-object space, freed only by a full collection).
 */
const DOWNLOAD_CHUNK_BYTES = 256 * 1024;

/** A preview as text when it is UTF-8; a multi-byte character cut at the preview's end is dropped. */
export function previewText(preview: Buffer, cut: boolean): string | null {
  for (let drop = 0; drop <= (cut ? 3 : 0) && drop <= preview.length; drop++) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(preview.subarray(0, preview.length - drop));
    } catch {
      // try one byte shorter: the cut may have split a character
    }
  }
  return null;
}

/** The stored payload in slices of DOWNLOAD_CHUNK_BYTES, one query each: memory stays at one chunk. */
async function* deadLetterChunks(pool: ApiContext['pool'], id: number, length: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < length; offset += DOWNLOAD_CHUNK_BYTES) {
    const chunk = await selectDeadLetterSlice(pool, id, offset, Math.min(DOWNLOAD_CHUNK_BYTES, length - offset));
    if (chunk === null) throw new Error(`dead letter ${id} was deleted during its download`);
    yield chunk;
  }
}

export const adminRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.addHook('preHandler', requireRole());
  const security = [{ apiKey: [] }];
  const tags = ['admin'];
  const Role = StringEnum(ROLES);

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
    if (!(await revokeApiKey(ctx.pool, request.params.id))) throw notFound(`active API key ${request.params.id}`, 'GET /api/v1/api-keys');
    ctx.keys.forget();
    ctx.audit.record({ actor: request.principal!.name, role: 'admin', action: 'api_key.revoke', target: request.params.id, detail: null, remoteAddr: request.ip });
    return reply.status(204).send(null);
  });

  const AuditItem = Type.Object({
    id: Type.Integer(), at: Type.String({ description: 'when; for condensed reads the last of them' }),
    firstAt: Type.String({ description: 'the first of `count` condensed reads; equal to `at` for a change' }),
    count: Type.Integer({ description: 'reads of this actor, address, action and target in this hour (1 for a change)' }),
    actor: Type.String(), role: Type.Union([Type.String(), Type.Null()]), action: Type.String(), target: Type.Union([Type.String(), Type.Null()]),
    detail: Type.Unknown(), remoteAddr: Type.Union([Type.String(), Type.Null()]),
  });
  app.get('/api/v1/audit', {
    schema: {
      tags, security, summary: 'Audit log, newest first (repeated reads condensed per hour with first and last time and a count)',
      querystring: Type.Object({ after: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,18}$', description: 'from the previous page\'s `next` URL' })), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }),
      response: { 200: Type.Object({ items: Type.Array(AuditItem), next: NextLink }) },
    },
  }, async (request, reply) => {
    await ctx.audit.flush();
    const q = request.query;
    const rows = await selectAuditEntries(ctx.pool, q.after === undefined ? null : Number(q.after), q.limit);
    return {
      items: rows.map((r) => ({ ...r, at: r.at.toISOString(), firstAt: r.firstAt.toISOString() })),
      next: nextPage(request, reply, ctx.publicUrl, rows.length === q.limit ? String(rows[rows.length - 1]!.id) : null),
    };
  });

  const payloadUrl = (id: number): string => `${ctx.publicUrl ?? ''}/api/v1/dead-letters/${id}/payload`;
  app.get('/api/v1/dead-letters', {
    schema: {
      tags, security,
      summary: 'Dead letters, newest first: reason, topic and a preview of the raw message (its first bytes); the whole message is at payloadUrl',
      querystring: Type.Object({
        reason: Type.Optional(Type.String({ maxLength: 64 })),
        after: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,18}$', description: 'from the previous page\'s `next` URL' })),
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        previewBytes: Type.Integer({ minimum: 0, maximum: DEAD_LETTER_PREVIEW_MAX, default: DEAD_LETTER_PREVIEW, description: 'how many of the first bytes each preview holds' }),
      }),
      response: {
        200: Type.Object({
          byReason: Type.Array(Type.Object({ reason: Type.String(), count: Type.Integer(), last: Type.String() })),
          items: Type.Array(Type.Object({
            id: Type.Integer(), receivedAt: Type.String(), topic: Type.String(), reason: Type.String(), detail: Type.Union([Type.String(), Type.Null()]), devEui: Type.Union([Type.String(), Type.Null()]),
            payload: Type.Object({
              length: Type.Integer({ description: 'bytes of the message as it arrived' }),
              storedLength: Type.Integer({ description: 'bytes kept (less than length for an oversize message, of which ingest keeps a prefix)' }),
              sha256: Type.Union([Type.String(), Type.Null()], { description: 'hex SHA-256 of the whole message, where ingest recorded it' }),
              previewBase64: Type.String({ description: 'the first previewBytes bytes kept' }),
              previewText: Type.Union([Type.String(), Type.Null()], { description: 'the preview as text when it is UTF-8 (a cut last character dropped), else null' }),
              truncated: Type.Boolean({ description: 'the preview is shorter than what is kept' }),
              url: Type.String({ description: 'the stored bytes, streamed (admin)' }),
            }),
          })),
          next: NextLink,
        }),
      },
    },
  }, async (request, reply) => {
    const q = request.query;
    const [byReason, rows] = await Promise.all([
      countDeadLettersByReason(ctx.pool),
      selectDeadLetters(ctx.pool, { reason: q.reason ?? null, beforeId: q.after === undefined ? null : Number(q.after), limit: q.limit, previewBytes: q.previewBytes }),
    ]);
    ctx.audit.read({ actor: request.principal!.name, role: 'admin', action: 'dead_letters.read', target: request.url, remoteAddr: request.ip });
    return {
      byReason: byReason.map((r) => ({ ...r, last: r.last.toISOString() })),
      items: rows.map((r) => ({
        id: r.id, receivedAt: r.receivedAt.toISOString(), topic: r.topic, reason: r.reason, detail: r.detail, devEui: r.devEui,
        payload: {
          length: r.length, storedLength: r.storedLength, sha256: r.sha256?.toString('hex') ?? null,
          previewBase64: r.preview.toString('base64'), previewText: previewText(r.preview, r.preview.length < r.storedLength),
          truncated: r.preview.length < r.storedLength, url: payloadUrl(r.id),
        },
      })),
      next: nextPage(request, reply, ctx.publicUrl, rows.length === q.limit ? String(rows[rows.length - 1]!.id) : null),
    };
  });

  app.get('/api/v1/dead-letters/:id/payload', {
    schema: {
      tags, security, summary: "A dead letter's stored bytes, streamed as they are (application/octet-stream); audited",
      params: Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,18}$' }) }),
      response: { 200: Type.Unsafe<Readable>({ type: 'string', format: 'binary', description: 'the stored bytes' }), 404: ErrorResponse },
    },
  }, async (request, reply) => {
    const id = Number(request.params.id);
    const size = await selectDeadLetterSize(ctx.pool, id);
    if (!size) throw notFound(`dead letter ${id}`, 'GET /api/v1/dead-letters');
    ctx.audit.record({ actor: request.principal!.name, role: 'admin', action: 'dead_letter.download', target: String(id), detail: { bytes: size.storedLength }, remoteAddr: request.ip });
    reply
      .type('application/octet-stream')
      .header('content-length', String(size.storedLength))
      .header('content-disposition', `attachment; filename="dead-letter-${id}.bin"`)
      .header('x-payload-length', String(size.length));
    if (size.sha256) reply.header('x-payload-sha256', size.sha256.toString('hex'));
    return reply.send(Readable.from(deadLetterChunks(ctx.pool, id, size.storedLength)));
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
