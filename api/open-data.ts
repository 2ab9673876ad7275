/**
 * Open data: free, machine-readable, no key. CORS open, rate-limited per client,
 * cacheable (ETag, 304 on If-None-Match). Only public assets and public metrics appear;
 * keys, DevAddr, radio details and internal notes never do. Single parking bays are
 * shown only when their asset is public; otherwise only in zone totals.
 * Licence: Datenlizenz Deutschland – Namensnennung – 2.0 (dl-de/by-2-0); publisher and
 * attribution come from the city profile (city-profile.ts), which GET /api/v1/open/city shows.
 * JSON and GeoJSON carry them in the body, CSV in Link headers and CSVW metadata (csvw.ts).
 */
import { createHash } from 'node:crypto';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { attributionLine, LICENCE } from '../city-profile.js';
import { catalog } from '../decoders/index.js';
import { selectAsset, selectExportDevices, selectExportPage, selectLatestByAsset, selectSeries, selectSeriesJson, selectZoneOccupancy, type Bucket, type ExportRow } from '../storage/index.js';
import type { ApiContext } from './app.js';
import { csvLinks } from './csvw.js';
import { badRequest, HttpError, notFound } from './errors.js';
import { groupByAsset, zoneTotals } from './live.js';
import { AfterCursor, nextPage } from './paging.js';
import { ErrorResponse, StringEnum } from './schemas.js';

const EXPORT_PAGE = 10_000;
/**
 * Export pages read while one is written. With one, the service (formatting) and
 * PostgreSQL (reading) took turns more than they overlapped. A month of 1,000 lamps
 * (2,880,000 rows) here, alternating: one page ahead 159,748 and 181,272 rows/s (service
 * 55–57 %, PostgreSQL 50–52 % of a core), two 253,695 and 257,692 (90 %, 74–78 %).
 */
const EXPORT_READ_AHEAD = 2;

interface ExportPage {
  /** Index of the device in the export's device list. */
  index: number;
  after: { metric: string; channel: string; time: Date } | null;
  rows: ExportRow[];
}


interface Dataset {
  id: string;
  title: string;
  description: string;
  assetKinds: string[];
  metrics: string[];
}

const publicMetrics = (category: string): string[] => [...catalog.values()].filter((m) => m.public && m.category === category).map((m) => m.id);

export const DATASETS: Dataset[] = [
  { id: 'air-quality', title: 'Air quality at street lamps', description: 'Particulate matter, NO2, CO2, temperature, humidity, pressure, noise', assetKinds: ['street_lamp'], metrics: publicMetrics('air') },
  { id: 'parking', title: 'Parking', description: 'Garages (free/total spaces) and public parking bays; all bays in zone totals', assetKinds: ['garage', 'parking_bay'], metrics: publicMetrics('parking') },
  { id: 'traffic', title: 'Traffic counts', description: 'Vehicles per interval by lane, direction and class; average speed', assetKinds: ['traffic_site'], metrics: publicMetrics('traffic') },
  { id: 'water-level', title: 'Water levels', description: 'Water level above gauge zero', assetKinds: ['water_gauge'], metrics: publicMetrics('water') },
];

// A string, not an enum: an unknown dataset is a 404 that lists the datasets, not a 400.
const DatasetId = Type.String({ pattern: '^[a-z0-9-]{1,64}$', description: `one of ${DATASETS.map((d) => d.id).join(', ')} (GET /api/v1/open/datasets)` });

function datasetOf(id: string): Dataset {
  const dataset = DATASETS.find((d) => d.id === id);
  if (!dataset) throw new HttpError(404, 'STADTFUNK_ERR_NOT_FOUND', `dataset ${id} does not exist; the datasets are ${DATASETS.map((d) => d.id).join(', ')}`);
  return dataset;
}
const Instant = (d: string) => Type.Optional(Type.String({ description: `ISO 8601 time; ${d}` }));

function instant(name: string, value: string | undefined, fallback: Date): Date {
  if (value === undefined) return fallback;
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) throw badRequest(`${name}: "${value}" is not an ISO 8601 time (example: 2026-11-01T00:00:00Z)`);
  return t;
}

function bbox(value: string | undefined): [number, number, number, number] | null {
  if (value === undefined) return null;
  const parts = value.split(',').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n))) throw badRequest('bbox: must be minLon,minLat,maxLon,maxLat (example: 6.70,51.20,6.85,51.26)');
  const [minLon, minLat, maxLon, maxLat] = parts as [number, number, number, number];
  if (minLon > maxLon || minLat > maxLat) throw badRequest('bbox: min must not exceed max');
  return [minLon, minLat, maxLon, maxLat];
}

/** RFC 4180: fields with comma, quote or line break are quoted, quotes doubled; CRLF line ends. */
export function csvLine(fields: (string | number | null)[]): string {
  return fields.map((f) => {
    const s = f === null ? '' : String(f);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }).join(',') + '\r\n';
}

function cursorOf(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function fromCursor<T>(value: string, check: (v: unknown) => v is T): T {
  try {
    const v: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (check(v)) return v;
  } catch {
    // fall through
  }
  throw badRequest('after: is not a cursor this API returned');
}

export const openDataRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  await app.register(cors, { origin: '*', methods: ['GET', 'HEAD', 'OPTIONS'], exposedHeaders: ['ETag', 'Link'] });
  // Per client address (request.ip: the TCP peer unless it is a trusted proxy). Requests
  // with a valid API key are not counted: keys are issued by an admin, audited and
  // revocable, and load tests use one (bench/k6) instead of raising the public limit.
  await app.register(rateLimit, {
    max: ctx.openDataRateLimitPerMinute ?? 600,
    timeWindow: 60_000,
    allowList: (request) => request.principal !== null,
    errorResponseBuilder: (request, context) => new HttpError(429, 'STADTFUNK_ERR_RATE_LIMITED',
      `open data allows ${context.max} requests per minute from one address (${request.ip}); retry in ${context.after}, or send an API key`),
  });

  // ETag on every successful JSON/CSV answer; a client that has it gets 304.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method !== 'GET' || reply.statusCode !== 200 || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) return payload;
    const etag = `"${createHash('sha1').update(payload).digest('base64url')}"`;
    reply.header('etag', etag);
    reply.header('cache-control', 'public, max-age=60');
    if (request.headers['if-none-match'] === etag) {
      reply.code(304);
      return '';
    }
    return payload;
  });

  const tags = ['open data'];
  const attribution = attributionLine(ctx.city);
  const licence = { id: LICENCE.id, name: LICENCE.name, url: LICENCE.url };

  app.get('/api/v1/open/city', {
    schema: {
      tags, summary: 'The city profile: publisher, attribution, licence, contact, map centre, area and tile server',
      response: {
        200: Type.Object({
          name: Type.String(), publisher: Type.String(), publisherUrl: Type.Union([Type.String(), Type.Null()]),
          attribution: Type.String(), licence: Type.Object({ id: Type.String(), name: Type.String(), url: Type.String() }),
          contactEmail: Type.String(), regionalKey: Type.String({ description: 'Amtlicher Regionalschlüssel' }),
          map: Type.Object({
            center: Type.Object({ latitude: Type.Number(), longitude: Type.Number() }), zoom: Type.Integer(),
            area: Type.Object({ minLongitude: Type.Number(), minLatitude: Type.Number(), maxLongitude: Type.Number(), maxLatitude: Type.Number() }),
            tileUrl: Type.String(), tileAttribution: Type.String(),
          }),
        }),
      },
    },
  }, async () => {
    const c = ctx.city;
    return {
      name: c.name, publisher: c.publisher, publisherUrl: c.publisherUrl, attribution, licence,
      contactEmail: c.contactEmail, regionalKey: c.regionalKey,
      map: { center: c.mapCenter, zoom: c.mapZoom, area: c.area, tileUrl: c.tileUrl, tileAttribution: c.tileAttribution },
    };
  });
  app.get('/api/v1/open/datasets', {
    schema: {
      tags, summary: 'Catalog of open datasets with licence and attribution',
      response: { 200: Type.Object({ licence: Type.Object({ id: Type.String(), name: Type.String(), url: Type.String() }), attribution: Type.String(), datasets: Type.Array(Type.Object({ id: Type.String(), title: Type.String(), description: Type.String(), metrics: Type.Array(Type.Object({ id: Type.String(), unit: Type.String(), description: Type.String() })), links: Type.Record(Type.String(), Type.String()) })) }) },
    },
  }, async () => ({
    licence,
    attribution,
    datasets: DATASETS.map((d) => ({
      id: d.id, title: d.title, description: d.description,
      metrics: d.metrics.map((id) => ({ id, unit: catalog.get(id)!.unit, description: catalog.get(id)!.description })),
      links: { latest: `/api/v1/open/datasets/${d.id}/latest`, geojson: `/api/v1/open/datasets/${d.id}/latest?format=geojson`, export: `/api/v1/open/datasets/${d.id}/export.csv` },
    })),
  }));

  app.get('/api/v1/open/datasets/:id/latest', {
    schema: {
      tags, summary: 'Latest values of the public assets of a dataset (JSON or GeoJSON FeatureCollection)',
      params: Type.Object({ id: DatasetId }),
      querystring: Type.Object({ format: StringEnum(['json', 'geojson'], { default: 'json' }), bbox: Type.Optional(Type.String({ description: 'minLon,minLat,maxLon,maxLat' })) }),
      response: { 200: Type.Any({ description: 'JSON items, or a GeoJSON FeatureCollection (RFC 7946) with format=geojson' }), 400: ErrorResponse, 404: ErrorResponse },
    },
  }, async (request, reply) => {
    const dataset = datasetOf(request.params.id);
    const box = bbox(request.query.bbox);
    const rows = await selectLatestByAsset(ctx.pool, { kinds: dataset.assetKinds, metrics: dataset.metrics, zone: null, publicOnly: true });
    const assets = groupByAsset(rows, Number.POSITIVE_INFINITY).filter(
      (a) => a.latitude !== null && a.longitude !== null && (!box || (a.longitude >= box[0] && a.longitude <= box[2] && a.latitude >= box[1] && a.latitude <= box[3])),
    );
    const lastModified = assets.reduce<string | null>((m, a) => (a.updatedAt && (!m || a.updatedAt > m) ? a.updatedAt : m), null);
    if (lastModified) reply.header('last-modified', new Date(lastModified).toUTCString());
    const items = assets.map((a) => ({ id: a.assetId, kind: a.kind, name: a.name, zone: a.zone, latitude: a.latitude!, longitude: a.longitude!, updatedAt: a.updatedAt, values: a.values }));
    if (request.query.format === 'geojson') {
      reply.type('application/geo+json');
      return {
        type: 'FeatureCollection',
        licence: LICENCE.id,
        attribution,
        features: items.map((i) => ({
          type: 'Feature', id: i.id,
          geometry: { type: 'Point', coordinates: [i.longitude, i.latitude] },
          properties: { kind: i.kind, name: i.name, zone: i.zone, updatedAt: i.updatedAt, ...i.values },
        })),
      };
    }
    return { dataset: dataset.id, licence: LICENCE.id, attribution, items };
  });

  app.get('/api/v1/open/parking/zones', {
    schema: {
      tags, summary: 'Free and total parking spaces per zone: all its bays in aggregate, and its garages', description: 'freeSpaces and totalSpaces add the latest free and total spaces of the zone\'s garages to its bays; unknown counts bays. SensorThings zone Datastreams count the bays only (docs/sensorthings.md).',
      response: { 200: Type.Object({ licence: Type.String(), attribution: Type.String(), zones: Type.Array(Type.Object({ zone: Type.String(), freeSpaces: Type.Integer(), totalSpaces: Type.Integer(), unknown: Type.Integer() })) }) },
    },
  }, async () => {
    const zones = zoneTotals(await selectZoneOccupancy(ctx.pool, { zone: null, staleAfterS: ctx.parkingStaleAfterS ?? 1800 }));
    return { licence: LICENCE.id, attribution, zones: zones.map((z) => ({ zone: z.zone, freeSpaces: z.freeSpaces, totalSpaces: z.totalSpaces, unknown: z.unknown })) };
  });

  app.get('/api/v1/open/assets/:id/series', {
    schema: {
      tags, summary: "A public asset's series of one metric: raw, hourly or daily (avg/min/max/count), JSON or CSV",
      params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$' }) }),
      querystring: Type.Object({
        metric: Type.String({ pattern: '^[a-z0-9_]{1,64}$' }),
        from: Instant('default 7 days before to'), to: Instant('default now'),
        bucket: StringEnum(['raw', 'hour', 'day'], { default: 'hour' }),
        format: StringEnum(['json', 'csv'], { default: 'json' }),
        after: AfterCursor,
        limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
      }),
      response: { 200: Type.Any({ description: 'JSON {items, next} or RFC 4180 CSV with format=csv; a Link: rel="next" header when there is more' }), 400: ErrorResponse, 404: ErrorResponse },
    },
  }, async (request, reply) => {
    const q = request.query;
    const asset = await selectAsset(ctx.pool, request.params.id);
    if (!asset || !asset.isPublic) throw notFound(`public asset ${request.params.id}`, 'GET /api/v1/open/datasets/{dataset}/latest');
    const dataset = DATASETS.find((d) => d.assetKinds.includes(asset.kind));
    if (!dataset || !dataset.metrics.includes(q.metric)) {
      throw badRequest(`metric: ${q.metric} is not published for ${asset.kind} assets (published: ${dataset?.metrics.join(', ') ?? 'none'})`);
    }
    const to = instant('to', q.to, new Date());
    const from = instant('from', q.from, new Date(to.getTime() - 7 * 86_400_000));
    if (from >= to) throw badRequest('from: must be before to');
    const after = q.after === undefined ? null : fromCursor(q.after, (v): v is [string, string] => Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string');
    const query = {
      assetId: asset.id, metric: q.metric, from, to, bucket: q.bucket as Bucket,
      after: after ? { time: new Date(after[0]), channel: after[1] } : null, limit: q.limit,
      timescale: ctx.timescale ?? false,
    };
    const nextLink = (count: number, last: { time: Date; channel: string } | null | undefined): string | null =>
      nextPage(request, reply, ctx.publicUrl, count < q.limit || !last ? null : cursorOf([last.time.toISOString(), last.channel]), { from: from.toISOString(), to: to.toISOString() });
    const unit = catalog.get(q.metric)!.unit;
    if (q.format === 'csv') {
      const rows = await selectSeries(ctx.pool, query);
      nextLink(rows.length, rows[rows.length - 1]);
      // Licence and CSVW metadata beside the file (csvw.ts), after a rel="next" if there is one.
      const next = reply.getHeader('link');
      reply.header('link', next ? `${String(next)}, ${csvLinks(request, 'series-metadata.json')}` : csvLinks(request, 'series-metadata.json'));
      reply.type('text/csv; charset=utf-8');
      let out = csvLine(['time', 'asset', 'metric', 'channel', 'unit', 'value', 'min', 'max', 'count']);
      for (const r of rows) out += csvLine([r.time.toISOString(), asset.id, q.metric, r.channel, unit, r.value, r.min, r.max, r.count]);
      return out;
    }
    // The items arrive as JSON text from the database and go out as they are.
    const page = await selectSeriesJson(ctx.pool, query);
    const next = nextLink(page.count, page.last);
    const head = JSON.stringify({ asset: asset.id, metric: q.metric, unit, bucket: q.bucket, licence: LICENCE.id, attribution });
    reply.type('application/json; charset=utf-8');
    return `${head.slice(0, -1)},"items":${page.items},"next":${JSON.stringify(next)}}`;
  });

  app.get('/api/v1/open/datasets/:id/export.csv', {
    schema: {
      tags, summary: 'Bulk CSV export of a dataset over a time range, streamed (no row limit)',
      params: Type.Object({ id: DatasetId }),
      querystring: Type.Object({ from: Instant('default 1 day before to'), to: Instant('default now') }),
      response: { 400: ErrorResponse, 404: ErrorResponse },
    },
  }, async (request, reply) => {
    const dataset = datasetOf(request.params.id);
    const to = instant('to', request.query.to, new Date());
    const from = instant('from', request.query.from, new Date(to.getTime() - 86_400_000));
    if (from >= to) throw badRequest('from: must be before to');
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${dataset.id}_${from.toISOString().slice(0, 10)}_${to.toISOString().slice(0, 10)}.csv"`,
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'Link',
      link: csvLinks(request, 'export.csv-metadata.json'),
    });
    res.write(csvLine(['time', 'asset', 'metric', 'channel', 'unit', 'value', 'quality']));
    // Device by device, keyset pages of 10,000 rows; waits for the socket to drain. While a
    // page is written, the next EXPORT_READ_AHEAD pages are read: the database, the
    // formatting and the socket each keep busy, and at most EXPORT_READ_AHEAD + 1 pages are
    // in memory, so memory stays flat. A device's next page needs its previous page's last
    // key, so reading ahead runs over the first pages of the devices after it.
    const queued: Promise<ExportPage>[] = [];
    try {
      const units = new Map(dataset.metrics.map((m) => [m, catalog.get(m)?.unit ?? '']));
      const devices = await selectExportDevices(ctx.pool, dataset.assetKinds);
      const read = (index: number, after: ExportPage['after']): Promise<ExportPage> => {
        const device = devices[index]!;
        const page = selectExportPage(ctx.pool, { devEui: device.devEui, assetId: device.assetId, metrics: dataset.metrics, from, to, after, limit: EXPORT_PAGE })
          .then((rows) => ({ index, after, rows }));
        // Handled here so a failure while earlier pages drain is not an unhandled
        // rejection; awaiting the page below still throws it.
        page.catch(() => undefined);
        return page;
      };
      let nextDevice = 0;
      const readAhead = (): void => {
        while (queued.length < EXPORT_READ_AHEAD && nextDevice < devices.length) queued.push(read(nextDevice++, null));
      };
      readAhead();
      while (queued.length > 0 && !res.destroyed) {
        const page: ExportPage = await queued.shift()!;
        const last = page.rows[page.rows.length - 1];
        // The rest of this device comes before the devices already queued.
        if (last && page.rows.length === EXPORT_PAGE) queued.unshift(read(page.index, { metric: last.metric, channel: last.channel, time: last.time }));
        readAhead();
        const assetId = devices[page.index]!.assetId;
        let chunk = '';
        for (const r of page.rows) chunk += csvLine([r.time.toISOString(), assetId, r.metric, r.channel, units.get(r.metric) ?? '', r.value, r.quality]);
        if (chunk && !res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
      }
      res.end();
    } catch (error) {
      request.log.error({ err: error }, 'export failed');
      res.destroy(error as Error);
    }
  });
};
