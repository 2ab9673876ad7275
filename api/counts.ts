/**
 * Counts per interval from the counters people and vehicle counters report
 * (people_count_total, vehicle_count_total: cumulative since a reset), with resets and
 * wraps taken into account (decoders/counter-increments.ts). Staff only, audited.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { counterIncrements } from '../decoders/counter-increments.js';
import { selectCounterSeries } from '../storage/index.js';
import type { ApiContext } from './app.js';
import { requireRole } from './auth.js';
import { badRequest } from './errors.js';
import { DevEui, ErrorResponse } from './schemas.js';

const COUNTERS = ['people_count_total', 'vehicle_count_total'] as const;

function instant(name: string, value: string | undefined, fallback: Date): Date {
  if (value === undefined) return fallback;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw badRequest(`${name}: not an ISO 8601 time`);
  return d;
}

export const countRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get('/api/v1/devices/:devEui/counts', {
    preHandler: requireRole('technician', 'operator'),
    schema: {
      tags: ['readings'], security: [{ apiKey: [] }],
      summary: "Counts per interval from a device's people or vehicle counter (cumulative as reported; resets and wraps handled)",
      params: Type.Object({ devEui: DevEui }),
      querystring: Type.Object({
        metric: Type.Union(COUNTERS.map((m) => Type.Literal(m)), { default: 'people_count_total' }),
        from: Type.Optional(Type.String({ description: 'ISO 8601; default 24 h before `to`' })),
        to: Type.Optional(Type.String({ description: 'ISO 8601; default now' })),
        intervalS: Type.Integer({ minimum: 60, maximum: 31 * 86_400, default: 3600, description: 'length of an interval, seconds' }),
        wrapAt: Type.Optional(Type.Integer({ minimum: 2, description: "the counter's modulus, e.g. 65536 for a 16-bit counter; without it a drop is a reset" })),
      }),
      response: {
        200: Type.Object({ items: Type.Array(Type.Object({ channel: Type.String(), start: Type.String(), count: Type.Number(), resets: Type.Integer(), wraps: Type.Integer() })) }),
        400: ErrorResponse,
      },
    },
  }, async (request) => {
    const q = request.query;
    const to = instant('to', q.to, new Date());
    const from = instant('from', q.from, new Date(to.getTime() - 86_400_000));
    if (from >= to) throw badRequest('from: must be before to');
    if ((to.getTime() - from.getTime()) / (q.intervalS * 1000) > 10_000) throw badRequest('intervalS: more than 10,000 intervals asked for');
    const devEui = request.params.devEui.toLowerCase();
    ctx.audit.record({ actor: request.principal!.name, role: request.principal!.role, action: 'readings.read', target: request.url, detail: null, remoteAddr: request.ip });
    const rows = await selectCounterSeries(ctx.pool, { devEui, metric: q.metric, from, to });
    const byChannel = new Map<string, { time: Date; value: number }[]>();
    for (const r of rows) {
      let list = byChannel.get(r.channel);
      if (!list) byChannel.set(r.channel, (list = []));
      list.push({ time: r.time, value: r.value });
    }
    const items = [];
    for (const [channel, points] of byChannel) {
      for (const i of counterIncrements(points, { intervalMs: q.intervalS * 1000, wrapAt: q.wrapAt ?? null })) {
        if (i.start.getTime() + q.intervalS * 1000 <= from.getTime()) continue;
        items.push({ channel, start: i.start.toISOString(), count: i.count, resets: i.resets, wraps: i.wraps });
      }
    }
    return { items };
  });
};
