/**
 * OGC SensorThings API 1.1 at /sta/v1.1: a read-only view of the registry and the
 * readings (docs/sensorthings.md). Anonymous requests see what open data shows (public
 * assets and metrics); an operator or admin key sees everything, and such reads are
 * audited like the other non-public reads. CORS open and rate-limited like open data.
 * Creating, changing and deleting answer 405: the data comes from the sensors.
 *
 * Errors are JSON `{ error, code, message, option?, position?, token? }`: a malformed
 * query option names where it went wrong; nothing a client sends causes a 500.
 */
import rateLimit from '@fastify/rate-limit';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { attributionLine, LICENCE } from '../../city-profile.js';
import { closePool, createStaPool, ENTITY_SETS, StaQueryError, withTimeLimit } from '../../storage/index.js';
import type { ApiContext } from '../app.js';
import { executeGet } from './execute.js';
import { parseQueryOptions } from './query-options.js';
import { ResolutionCache } from './resolution-cache.js';
import { parseResourcePath } from './resource-path.js';
import type { Links } from './serialize.js';
import { STA_METRICS } from './vocabulary.js';

export const STA_PREFIX = '/sta/v1.1';

/** The requirement classes this service implements (OGC 18-088 Annex A; the URIs FROST-Server lists). */
export const CONFORMANCE = [
  'http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel',
  'http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities',
  'http://www.opengis.net/spec/iot_sensing/1.1/req/request-data',
  'http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array',
  'http://www.opengis.net/spec/iot_sensing/1.1/req/receive-updates-via-mqtt/receive-updates',
];

const STA_TIMEOUT_MS_DEFAULT = 5_000;

/** An STA error: where in which option a query went wrong. */
const StaError = Type.Object({
  error: Type.String(), code: Type.String(), message: Type.String(),
  option: Type.Optional(Type.String()), position: Type.Optional(Type.Integer()), token: Type.Optional(Type.String()),
});

const STATUS = { 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 501: 'Not Implemented' } as const;

/** Options of the SensorThings plugin beyond ApiContext. */
export interface StaOptions {
  /**
   * Where clients subscribe (the service root's serverSettings): a fixed URL, or the
   * embedded broker's port on the host the request came to. Absent: none announced.
   */
  mqttEndpoint?: { url: string } | { port: number };
  /** Longest a request's statements may run. Default 5,000 ms. */
  queryTimeoutMs?: number;
  /** Connections of the SensorThings reads' own pool. Default 8. */
  connections?: number;
}

export const staRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext; sta?: StaOptions }> = async (app, { ctx, sta }) => {
  // CORS by hand: @fastify/cors registers a global OPTIONS * route, which open data already has.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('access-control-allow-origin', '*');
    return payload;
  });
  await app.register(rateLimit, { max: ctx.openDataRateLimitPerMinute ?? 600, timeWindow: 60_000 });
  const attribution = attributionLine(ctx.city);
  const licence = { id: LICENCE.id, name: LICENCE.name, url: LICENCE.url };
  const timeoutMs = sta?.queryTimeoutMs ?? STA_TIMEOUT_MS_DEFAULT;
  const pool = createStaPool(ctx.pool, {
    timeoutMs, max: sta?.connections ?? 8,
    onError: (error) => app.log.warn({ reason: error.message }, 'idle SensorThings database connection failed'),
  });
  app.addHook('onClose', async () => closePool(pool));
  const resolutions = new ResolutionCache();

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof StaQueryError) {
      const status = error.details.status ?? 400;
      return reply.status(status).send({
        error: STATUS[status], code: status === 404 ? 'STADTFUNK_ERR_NOT_FOUND' : status === 501 ? 'STADTFUNK_ERR_STA_NOT_IMPLEMENTED' : 'STADTFUNK_ERR_STA_QUERY',
        message: error.message,
        ...(error.details.option ? { option: error.details.option } : {}),
        ...(error.details.position !== undefined ? { position: error.details.position } : {}),
        ...(error.details.token !== undefined ? { token: error.details.token } : {}),
      });
    }
    // Everything else as the rest of the API answers it.
    throw error;
  });

  // Writes are refused before a body is read: a malformed or huge body still gets the 405.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    await reply.status(405).header('allow', 'GET, HEAD, OPTIONS').send({
      error: 'Method Not Allowed', code: 'STADTFUNK_ERR_STA_READ_ONLY',
      message: `${request.method}: this SensorThings service is read-only; its data comes from the city's sensors and registry (register assets and devices through /api/v1)`,
    });
  });

  const links = (request: FastifyRequest): Links => ({
    base: `${ctx.publicUrl ?? `${request.protocol}://${request.host}`}${STA_PREFIX}`,
    licence,
    attribution,
  });

  /** Operator and admin keys see every asset and metric; their reads are audited. */
  const seesAll = (request: FastifyRequest): boolean => {
    const role = request.principal?.role;
    if (role !== 'admin' && role !== 'operator') return false;
    ctx.audit.record({ actor: request.principal!.name, role, action: 'sta.read', target: request.url.slice(0, 2000), detail: null, remoteAddr: request.ip });
    return true;
  };

  /** The service root document (OGC 18-088 §9.2.1): entity sets, conformance and MQTT endpoints. */
  const serviceRoot = (request: FastifyRequest): { value: { name: string; url: string }[]; serverSettings: Record<string, unknown> } => {
    const base = links(request).base;
    const serverSettings: Record<string, unknown> = { conformance: CONFORMANCE };
    const mqtt = sta?.mqttEndpoint;
    const endpoints = !mqtt ? [] : 'url' in mqtt ? [mqtt.url] : [`mqtt://${request.hostname.includes(':') ? `[${request.hostname}]` : request.hostname}:${mqtt.port}`];
    serverSettings['http://www.opengis.net/spec/iot_sensing/1.1/req/receive-updates-via-mqtt/receive-updates'] = { endpoints };
    serverSettings.licence = { ...licence, uri: LICENCE.dcatUri, attribution };
    return { value: ENTITY_SETS.map((e) => ({ name: e.plural, url: `${base}/${e.plural}` })), serverSettings };
  };

  const tags = ['SensorThings'];
  app.get(STA_PREFIX, {
    schema: {
      tags, summary: 'SensorThings API 1.1 service root: entity sets, conformance classes, MQTT endpoints, licence',
      response: { 200: Type.Object({ value: Type.Array(Type.Object({ name: Type.String(), url: Type.String() })), serverSettings: Type.Record(Type.String(), Type.Unknown()) }) },
    },
  }, async (request) => serviceRoot(request));

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const url = request.url;
    const queryAt = url.indexOf('?');
    const pathPart = (queryAt < 0 ? url : url.slice(0, queryAt)).slice(STA_PREFIX.length);
    let segments: string[];
    try {
      // Empty segments are dropped: clients joining a base URL ending in / with a path starting
      // with one (Grafana's FROST data source) send //Datastreams(1)/Observations.
      segments = pathPart.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    } catch {
      throw new StaQueryError('the path is not valid percent-encoding', { status: 400 });
    }
    if (segments.length === 0) {
      await reply.type('application/json; charset=utf-8').send(JSON.stringify(serviceRoot(request)));
      return;
    }
    const path = parseResourcePath(segments);
    const options = parseQueryOptions(request.query as Record<string, unknown>);
    const settings = { all: seesAll(request), timescale: ctx.timescale ?? false, metrics: STA_METRICS };
    const result = await withTimeLimit(pool, timeoutMs, (db) => executeGet(db, settings, path, options, links(request), pathPart, resolutions));
    if (result.kind === 'empty') await reply.status(204).send();
    else if (result.kind === 'raw') await reply.type('text/plain; charset=utf-8').send(result.body);
    // As bytes: Fastify measures a string's UTF-8 length and node:http then encodes it, two passes over a
    // page of 1,000 Observations (470 KB), a tenth of the service's CPU while paging (issue 21).
    else await reply.type('application/json; charset=utf-8').send(result.kind === 'bytes' ? result.body : Buffer.from(JSON.stringify(result.body)));
  };

  app.get(`${STA_PREFIX}/*`, {
    schema: {
      tags, summary: 'SensorThings resource path: entity sets, entities, navigation, properties, $value, $ref',
      description: 'Query options: $filter, $expand (nested options in parentheses), $select, $orderby, $top, $skip, $count, $resultFormat=dataArray; $skiptoken only as the service writes it in @iot.nextLink.',
      // The query options by name, so that OpenAPI lists them (a Record became two bogus
      // parameters, "type" and "additionalProperties"); others still pass to the parser.
      querystring: Type.Object(
        Object.fromEntries(['$filter', '$expand', '$select', '$orderby', '$top', '$skip', '$count', '$resultFormat', '$skiptoken'].map((name) => [name, Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())]))])),
        { additionalProperties: Type.Union([Type.String(), Type.Array(Type.String())]) },
      ),
      response: { 400: StaError, 404: StaError, 501: StaError },
    },
  }, handler);

  for (const url of [STA_PREFIX, `${STA_PREFIX}/*`]) {
    app.options(url, { schema: { hide: true } }, async (_request, reply) => {
      await reply.status(204).headers({
        'access-control-allow-methods': 'GET, HEAD, OPTIONS',
        'access-control-allow-headers': 'authorization, x-api-key, content-type',
        'access-control-max-age': '86400',
      }).send();
    });
  }
  const refuse = async (): Promise<void> => undefined;
  for (const url of [STA_PREFIX, `${STA_PREFIX}/*`]) {
    app.route({ method: ['POST', 'PUT', 'PATCH', 'DELETE'], url, schema: { hide: true }, handler: refuse });
  }
};
