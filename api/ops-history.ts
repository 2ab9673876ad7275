/**
 * The ops cockpit's pictures (issue 25): over the last hours, ingest rate, batch commit
 * time and dead letters, and per gateway/concentrator the uplinks it heard with their
 * RSSI and SNR. Ingest records the history once a minute (ingest/ops-history.ts); dead
 * letters are counted from their own table. Every bucket of the range is in the answer,
 * empty ones with zero counts and null times, so a chart shows a gap as a gap.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { selectConcentratorHistory, selectConcentrators, selectDeadLetterHistory, selectIngestHistory } from '../storage/index.js';
import type { ApiContext } from './app.js';
import { requireRole } from './auth.js';
import { ErrorResponse } from './schemas.js';

/** Buckets per range: 288 of 5 minutes for a day. */
const BUCKETS = 288;

const Num = Type.Number();
const NullableNum = Type.Union([Type.Number(), Type.Null()]);

export const opsHistoryRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get('/api/v1/ops/history', {
    preHandler: requireRole(),
    schema: {
      tags: ['admin'], security: [{ apiKey: [] }],
      summary: 'Ingest rate, batch commit time, dead letters and per-gateway uplinks, RSSI and SNR over the last hours',
      querystring: Type.Object({ hours: Type.Integer({ minimum: 1, maximum: 168, default: 24, description: 'how far back, hours' }) }),
      response: {
        200: Type.Object({
          from: Type.String(), to: Type.String(), bucketSeconds: Type.Integer(),
          ingest: Type.Array(Type.Object({ time: Type.String(), uplinksPerSecond: Num, messages: Num, readings: Num, batches: Num, batchMsAvg: NullableNum, batchMsMax: NullableNum })),
          deadLetters: Type.Array(Type.Object({ time: Type.String(), count: Num })),
          concentrators: Type.Array(Type.Object({
            gatewayId: Type.String(), band: Type.Union([Type.String(), Type.Null()]),
            points: Type.Array(Type.Object({ time: Type.String(), uplinks: Num, rssiDbm: NullableNum, snrDb: NullableNum })),
          })),
        }),
        400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse,
      },
    },
  }, async (request) => {
    const hours = request.query.hours;
    const bucketS = Math.max(60, Math.round((hours * 3600) / BUCKETS / 60) * 60);
    const now = Date.now();
    // Buckets on the same grid as the queries' (multiples of bucketS since the epoch).
    const bucketMs = bucketS * 1000;
    const to = now - (now % bucketMs) + bucketMs;
    const from = new Date(Math.floor((to - hours * 3_600_000) / bucketMs) * bucketMs);
    const [ingest, dead, gateways, known] = await Promise.all([
      selectIngestHistory(ctx.pool, from, bucketS), selectDeadLetterHistory(ctx.pool, from, bucketS),
      selectConcentratorHistory(ctx.pool, from, bucketS), selectConcentrators(ctx.pool),
    ]);
    const times: number[] = [];
    for (let t = from.getTime(); t < to; t += bucketMs) times.push(t);
    const iso = (t: number) => new Date(t).toISOString();
    const ingestAt = new Map(ingest.map((r) => [r.time.getTime(), r]));
    const deadAt = new Map(dead.map((r) => [r.time.getTime(), r.count]));
    const byGateway = new Map<string, Map<number, (typeof gateways)[number]>>();
    for (const g of gateways) {
      if (!byGateway.has(g.gatewayId)) byGateway.set(g.gatewayId, new Map());
      byGateway.get(g.gatewayId)!.set(g.time.getTime(), g);
    }
    const bands = new Map(known.map((c) => [c.gatewayId, c.band]));
    return {
      from: from.toISOString(), to: iso(to), bucketSeconds: bucketS,
      ingest: times.map((t) => {
        const r = ingestAt.get(t);
        return {
          time: iso(t), uplinksPerSecond: r ? r.uplinks / bucketS : 0, messages: r?.messages ?? 0, readings: r?.readings ?? 0, batches: r?.batches ?? 0,
          batchMsAvg: r && r.batches > 0 ? (r.batchSecondsSum / r.batches) * 1000 : null, batchMsMax: r && r.batches > 0 ? r.batchSecondsMax * 1000 : null,
        };
      }),
      deadLetters: times.map((t) => ({ time: iso(t), count: deadAt.get(t) ?? 0 })),
      concentrators: [...byGateway].sort(([a], [b]) => a.localeCompare(b)).map(([gatewayId, points]) => ({
        gatewayId, band: bands.get(gatewayId) ?? null,
        points: times.map((t) => {
          const p = points.get(t);
          return { time: iso(t), uplinks: p?.uplinks ?? 0, rssiDbm: p?.rssiDbm ?? null, snrDb: p?.snrDb ?? null };
        }),
      })),
    };
  });
};
