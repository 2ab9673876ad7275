/** Readings of one device: raw series (keyset-paginated) and latest values. */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { catalog } from '../decoders/index.js';
import { selectDeviceLatest, selectDeviceReadings } from '../storage/index.js';
import type { ApiContext } from './app.js';
import { requireRole } from './auth.js';
import { badRequest } from './errors.js';
import { DevEui, ErrorResponse } from './schemas.js';

const Reading = Type.Object({
  time: Type.String({ format: 'date-time' }),
  metric: Type.String(),
  channel: Type.String(),
  value: Type.Number(),
  quality: Type.String(),
  unit: Type.Optional(Type.String({ description: "the catalog's UCUM unit of the metric" })),
});

function parseInstant(name: string, value: string | undefined, fallback: Date): Date {
  if (value === undefined) return fallback;
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) throw badRequest(`${name}: "${value}" is not an ISO 8601 time (example: 2026-11-24T00:00:00Z)`);
  return t;
}

/** Keyset cursor: the position of the last row of a page, opaque to clients. */
function encodeCursor(row: { time: Date; metric: string; channel: string }): string {
  return Buffer.from(JSON.stringify([row.time.toISOString(), row.metric, row.channel])).toString('base64url');
}

function decodeCursor(value: string): { time: Date; metric: string; channel: string } {
  try {
    const [time, metric, channel] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as [string, string, string];
    const t = new Date(time);
    if (Number.isNaN(t.getTime()) || typeof metric !== 'string' || typeof channel !== 'string') throw new Error('bad cursor');
    return { time: t, metric, channel };
  } catch {
    throw badRequest('after: is not a cursor this API returned in `next`');
  }
}

export const readingRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const deps = ctx;
  // Any device's data, public or not: for staff, and every read is audited.
  app.addHook('preHandler', requireRole('technician', 'operator'));
  app.addHook('preHandler', async (request) => {
    ctx.audit.record({ actor: request.principal!.name, role: request.principal!.role, action: 'readings.read', target: request.url, detail: null, remoteAddr: request.ip });
  });
  app.get(
    '/api/v1/devices/:devEui/readings',
    {
      schema: {
        tags: ['readings'],
        summary: "A device's readings, newest first",
        security: [{ apiKey: [] }],
        params: Type.Object({ devEui: DevEui }),
        querystring: Type.Object({
          metric: Type.Optional(Type.String({ pattern: '^[a-z0-9_]{1,64}$' })),
          from: Type.Optional(Type.String({ description: 'ISO 8601; default 24 h before `to`' })),
          to: Type.Optional(Type.String({ description: 'ISO 8601; default now' })),
          after: Type.Optional(Type.String({ description: 'cursor: the `next` value of the previous page' })),
          limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
        }),
        response: { 200: Type.Object({ items: Type.Array(Reading), next: Type.Union([Type.String(), Type.Null()]) }), 400: ErrorResponse },
      },
    },
    async (request) => {
      const q = request.query;
      const to = parseInstant('to', q.to, new Date());
      const from = parseInstant('from', q.from, new Date(to.getTime() - 86_400_000));
      if (from >= to) throw badRequest('from: must be before to');
      const after = q.after === undefined ? null : decodeCursor(q.after);
      const rows = await selectDeviceReadings(deps.pool, {
        devEui: request.params.devEui.toLowerCase(), metric: q.metric ?? null, from, to, after, limit: q.limit,
      });
      const last = rows[rows.length - 1];
      return {
        items: rows.map((r) => ({ ...r, time: r.time.toISOString() })),
        next: rows.length === q.limit && last ? encodeCursor(last) : null,
      };
    },
  );

  app.get(
    '/api/v1/devices/:devEui/latest',
    {
      schema: {
        tags: ['readings'],
        summary: 'Latest value per metric of a device',
        params: Type.Object({ devEui: DevEui }),
        response: { 200: Type.Object({ items: Type.Array(Reading) }) },
      },
    },
    async (request) => {
      const rows = await selectDeviceLatest(deps.pool, request.params.devEui.toLowerCase());
      return { items: rows.map((r) => ({ ...r, time: r.time.toISOString(), unit: catalog.get(r.metric)?.unit ?? '' })) };
    },
  );
};
