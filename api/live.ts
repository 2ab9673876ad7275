/**
 * Live state for traffic control (role operator): parking bays and zones, garages,
 * traffic counting sites, air quality per lamp; and a Server-Sent Events stream of
 * changes, filterable by zone and asset kind, resumable with Last-Event-ID.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { bayState, selectAssets, selectLatestByAsset, selectZoneOccupancy, type LatestByAssetRow } from '../storage/index.js';
import type { ApiContext } from './app.js';
import { requireRole } from './auth.js';
import type { LiveEvent } from './live-bus.js';
import { ErrorResponse, StringEnum } from './schemas.js';

const Zone = Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'only this zone' }));
const ZoneRow = Type.Object({
  zone: Type.String(), bays: Type.Integer(), occupied: Type.Integer(), free: Type.Integer(), unknown: Type.Integer(),
  garageFree: Type.Integer(), garageTotal: Type.Integer(), freeSpaces: Type.Integer(), totalSpaces: Type.Integer(),
});
const AssetState = Type.Object({
  assetId: Type.String(), kind: Type.String(), zone: Type.Union([Type.String(), Type.Null()]), name: Type.Union([Type.String(), Type.Null()]),
  latitude: Type.Union([Type.Number(), Type.Null()]), longitude: Type.Union([Type.Number(), Type.Null()]),
  state: Type.Optional(Type.String()), updatedAt: Type.Union([Type.String(), Type.Null()]),
  values: Type.Record(Type.String(), Type.Number()),
});

/** Zone totals with bays and garages together: what a control-desk display shows. */
export function zoneTotals(rows: Awaited<ReturnType<typeof selectZoneOccupancy>>) {
  return rows.map((z) => ({ ...z, freeSpaces: z.free + z.garageFree, totalSpaces: z.bays + z.garageTotal }));
}

/**
 * One object per asset with its latest values; `metric@channel` keys for channelled
 * metrics. A parking bay's state follows the bay rule (storage/sql/bay-state.ts) by its
 * `occupied` reading, as the zone totals count it; other assets are silent when their
 * newest reading of any metric is stale.
 */
export function groupByAsset(rows: LatestByAssetRow[], staleAfterMs: number, now = Date.now()) {
  const byAsset = new Map<string, { assetId: string; kind: string; zone: string | null; name: string | null; latitude: number | null; longitude: number | null; updatedAt: Date | null; values: Record<string, number>; occupiedAt: Date | null }>();
  for (const r of rows) {
    let a = byAsset.get(r.assetId);
    if (!a) {
      a = { assetId: r.assetId, kind: r.kind, zone: r.zone, name: r.name, latitude: r.latitude, longitude: r.longitude, updatedAt: null, values: {}, occupiedAt: null };
      byAsset.set(r.assetId, a);
    }
    const key = r.channel ? `${r.metric}@${r.channel}` : r.metric;
    if (!(key in a.values)) {
      a.values[key] = r.value;
      if (key === 'occupied') a.occupiedAt = r.time;
    }
    if (!a.updatedAt || r.time > a.updatedAt) a.updatedAt = r.time;
  }
  return [...byAsset.values()].map(({ occupiedAt, ...a }) => {
    const stale = !a.updatedAt || now - a.updatedAt.getTime() > staleAfterMs;
    const state = a.kind === 'parking_bay' ? bayState(a.values.occupied, occupiedAt, staleAfterMs, now) : stale ? 'silent' : 'ok';
    return { ...a, state, updatedAt: a.updatedAt?.toISOString() ?? null };
  });
}

export const liveRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const staleAfterS = ctx.parkingStaleAfterS ?? 1800;
  const operator = requireRole('operator');
  const audited = (action: string) => async (request: { principal: { name: string; role: string } | null; ip: string; url: string }) => {
    ctx.audit.read({ actor: request.principal?.name ?? 'anonymous', role: request.principal?.role ?? null, action, target: request.url, remoteAddr: request.ip });
  };

  // A control desk polls zone totals often; computing them reads every bay. Answers are
  // shared for up to a second (the SSE stream carries every change as it happens).
  const zoneCache = new Map<string, { at: number; value: Promise<ReturnType<typeof zoneTotals>> }>();
  const zonesNow = (zone: string | null): Promise<ReturnType<typeof zoneTotals>> => {
    const key = zone ?? '';
    const hit = zoneCache.get(key);
    if (hit && Date.now() - hit.at < 1000) return hit.value;
    const value = selectZoneOccupancy(ctx.pool, { zone, staleAfterS }).then(zoneTotals);
    value.catch(() => zoneCache.delete(key));
    if (zoneCache.size > 1000) zoneCache.clear();
    zoneCache.set(key, { at: Date.now(), value });
    return value;
  };
  app.get('/api/v1/live/zones', {
    preHandler: [operator, audited('live.zones.read')],
    schema: { tags: ['live'], summary: 'Free and total spaces per zone (bays and garages; at most 1 s old)', security: [{ apiKey: [] }], querystring: Type.Object({ zone: Zone }), response: { 200: Type.Object({ zones: Type.Array(ZoneRow) }), 401: ErrorResponse, 403: ErrorResponse } },
  }, async (request) => ({ zones: await zonesNow(request.query.zone ?? null) }));

  const kinds = { parking: ['parking_bay', 'garage'], traffic: ['traffic_site'], air: ['street_lamp'], water: ['water_gauge'] } as const;
  for (const [name, assetKinds] of Object.entries(kinds)) {
    app.get(`/api/v1/live/${name}`, {
      preHandler: [operator, audited(`live.${name}.read`)],
      schema: {
        tags: ['live'], summary: `Current state of every ${name} asset`, security: [{ apiKey: [] }],
        querystring: Type.Object({ zone: Zone }),
        response: { 200: Type.Object({ assets: Type.Array(AssetState), staleAfterS: Type.Integer() }), 401: ErrorResponse, 403: ErrorResponse },
      },
    }, async (request) => {
      const rows = await selectLatestByAsset(ctx.pool, { kinds: [...assetKinds], metrics: null, zone: request.query.zone ?? null, publicOnly: false });
      return { assets: groupByAsset(rows, staleAfterS * 1000), staleAfterS };
    });
  }

  // Asset zone and kind for stream filters, refreshed every 30 s.
  let assetInfo = new Map<string, { zone: string | null; kind: string }>();
  let assetInfoAt = 0;
  const refreshAssetInfo = async (): Promise<void> => {
    if (Date.now() - assetInfoAt < 30_000) return;
    const next = new Map<string, { zone: string | null; kind: string }>();
    let after: string | null = null;
    for (;;) {
      const page = await selectAssets(ctx.pool, { kind: null, zone: null, after, limit: 5000 });
      for (const a of page) next.set(a.id, { zone: a.zone, kind: a.kind });
      if (page.length < 5000) break;
      after = page[page.length - 1]!.id;
    }
    assetInfo = next;
    assetInfoAt = Date.now();
  };

  app.get('/api/v1/live/stream', {
    preHandler: [operator, audited('live.stream.open')],
    schema: {
      tags: ['live'], summary: 'Server-Sent Events: every change within a second of ingest (resume with Last-Event-ID)', security: [{ apiKey: [] }],
      querystring: Type.Object({ zone: Zone, kind: Type.Optional(StringEnum(['street_lamp', 'parking_bay', 'garage', 'traffic_site', 'water_gauge'])) }),
    },
  }, async (request, reply) => {
    await refreshAssetInfo();
    const { zone, kind } = request.query;
    const matches = (e: LiveEvent): boolean => {
      if (!zone && !kind) return true;
      const info = assetInfo.get(e.assetId);
      if (!info) return false;
      return (!zone || info.zone === zone) && (!kind || info.kind === kind);
    };
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (e: LiveEvent): void => {
      if (!matches(e)) return;
      res.write(`id: ${e.id}\nevent: reading\ndata: ${JSON.stringify(e)}\n\n`);
    };
    res.write(`retry: 2000\n: stadtfunk live stream\n\n`);
    const lastEventId = Number(request.headers['last-event-id']);
    if (Number.isInteger(lastEventId) && lastEventId > 0) {
      const missed = ctx.liveBus.since(lastEventId);
      if (missed === null) res.write(`event: reset\ndata: {"reason":"too far behind; reload the current state"}\n\n`);
      else for (const e of missed) send(e);
    }
    const unsubscribe = ctx.liveBus.subscribe(async (e) => {
      if (!assetInfo.has(e.assetId) && (zone || kind)) await refreshAssetInfo().catch(() => undefined);
      send(e);
    });
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const close = (): void => {
      clearInterval(keepAlive);
      unsubscribe();
      streams.delete(res);
    };
    streams.add(res);
    request.raw.on('close', close);
  });

  // Open streams end when the app closes, or close() would wait for them forever.
  const streams = new Set<import('node:http').ServerResponse>();
  app.addHook('onClose', async () => {
    for (const res of streams) res.end();
  });
};
