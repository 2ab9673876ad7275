/**
 * The DCAT-AP.de catalog for GovData and the state portals' CKAN harvesters:
 *
 *   /api/v1/open/catalog          content negotiation (Accept): RDF/XML, Turtle or JSON-LD
 *   /api/v1/open/catalog.rdf      application/rdf+xml
 *   /api/v1/open/catalog.ttl      text/turtle
 *   /api/v1/open/catalog.jsonld   application/ld+json
 *
 * Links are absolute: PUBLIC_URL, or else the scheme and Host of the request as Fastify
 * reports them (its proxy trust decides whether X-Forwarded-* count; not read here).
 * Built at most once a minute per format and base URL, served from memory with ETag,
 * Last-Modified, 304 and gzip (cached-document.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { LICENCE } from '../../city-profile.js';
import { catalog as metricCatalog } from '../../decoders/index.js';
import { selectPublishedKinds } from '../../storage/index.js';
import type { ApiContext } from '../app.js';
import { DocumentCache, sendDocument } from '../cached-document.js';
import { badRequest, HttpError } from '../errors.js';
import { DATASETS } from '../open-data.js';
import { ErrorResponse } from '../schemas.js';
import { CATALOG_PATH, dcatCatalog } from './dcat-catalog.js';
import { toJsonLd } from './json-ld.js';
import { toRdfXml } from './rdf-xml.js';
import { toTurtle } from './turtle.js';
import type { Resource } from './rdf-graph.js';

export type CatalogFormat = 'rdf' | 'ttl' | 'jsonld';

/** Media types per format, in the order of preference when a client accepts several equally (RDF/XML first: what older harvesters read). */
export const CATALOG_FORMATS: Record<CatalogFormat, { mediaType: string; write: (r: Resource[]) => string | Promise<string> }> = {
  rdf: { mediaType: 'application/rdf+xml', write: toRdfXml },
  ttl: { mediaType: 'text/turtle', write: toTurtle },
  jsonld: { mediaType: 'application/ld+json', write: toJsonLd },
};

/** How long a built catalog is served before a request rebuilds it in the background. */
export const CATALOG_MAX_AGE_MS = 60_000;

/**
 * The format an Accept header prefers (RFC 9110 §12.5.1: the most specific matching
 * range gives a type its q; the highest q wins, ties go to the order above); null when
 * the client accepts none (406). No header: RDF/XML.
 */
export function negotiateCatalog(accept: string | undefined): CatalogFormat | null {
  if (!accept || !accept.trim()) return 'rdf';
  const ranges = accept.split(',').map((part) => {
    const [range = '', ...params] = part.trim().toLowerCase().split(';').map((p) => p.trim());
    const q = params.find((p) => p.startsWith('q='));
    const value = q === undefined ? 1 : Number(q.slice(2));
    return { range, q: Number.isFinite(value) ? value : 0 };
  });
  // application/json: JSON-LD is JSON, and what a JSON client can read of the three.
  const aliases: Record<CatalogFormat, string[]> = { rdf: ['application/rdf+xml'], ttl: ['text/turtle'], jsonld: ['application/ld+json', 'application/json'] };
  let best: { format: CatalogFormat; q: number } | null = null;
  for (const format of Object.keys(CATALOG_FORMATS) as CatalogFormat[]) {
    let q = -1;
    let specificity = -1;
    for (const type of aliases[format]) {
      for (const r of ranges) {
        const s = r.range === type ? 2 : r.range === `${type.split('/')[0]}/*` ? 1 : r.range === '*/*' ? 0 : -1;
        if (s > specificity || (s === specificity && s >= 0 && r.q > q)) { specificity = s; q = r.q; }
      }
    }
    if (q > 0 && (best === null || q > best.q)) best = { format, q };
  }
  return best?.format ?? null;
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** PUBLIC_URL, or the request's own scheme and host; a Host that is no host name is refused. */
function baseUrl(ctx: ApiContext, request: FastifyRequest): string {
  if (ctx.publicUrl) return ctx.publicUrl;
  const host = request.host;
  if (!HOST.test(host)) throw badRequest(`Host: "${host.slice(0, 100)}" is not a host name; set PUBLIC_URL for absolute links`);
  return `${request.protocol === 'https' ? 'https' : 'http'}://${host}`;
}

export const catalogRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const metrics = [...metricCatalog.values()].filter((m) => m.public).map((m) => m.id);
  const cache = new DocumentCache<`${CatalogFormat} ${string}`>({
    maxAgeMs: CATALOG_MAX_AGE_MS,
    label: (key) => `catalog/${key.split(' ')[0]}`,
    build: async (key) => {
      const [format, base] = key.split(' ') as [CatalogFormat, string];
      const kinds = await selectPublishedKinds(ctx.pool, { metrics });
      const { resources, lastModified } = dcatCatalog({ base, city: ctx.city, datasets: DATASETS, kinds });
      return { body: await CATALOG_FORMATS[format].write(resources), lastModified };
    },
    onRefreshError: (error) => app.log.error({ err: error }, 'catalog refresh failed; the last one is served'),
  });

  const serve = async (request: FastifyRequest, reply: import('fastify').FastifyReply, format: CatalogFormat, negotiated: boolean) => {
    const doc = await cache.get(`${format} ${baseUrl(ctx, request)}`);
    return sendDocument(request, reply, doc, {
      contentType: `${CATALOG_FORMATS[format].mediaType}; charset=utf-8`,
      cacheControl: 'public, max-age=300',
      link: `<${LICENCE.url}>; rel="license"`,
      ...(negotiated ? { vary: 'Accept' } : {}),
    });
  };
  const response = { 200: Type.Any({ description: 'the catalog' }), 304: Type.Null({ description: 'not modified' }), 400: ErrorResponse, 406: ErrorResponse };

  app.get(CATALOG_PATH, {
    schema: { tags: ['open data'], summary: 'DCAT-AP.de catalog of the open datasets (Accept: application/rdf+xml, text/turtle or application/ld+json)', response },
  }, async (request, reply) => {
    const format = negotiateCatalog(request.headers.accept);
    if (format === null) {
      throw new HttpError(406, 'STADTFUNK_ERR_NOT_ACCEPTABLE', `the catalog is available as ${Object.values(CATALOG_FORMATS).map((f) => f.mediaType).join(', ')} (or by suffix: ${CATALOG_PATH}.rdf, .ttl, .jsonld)`);
    }
    return serve(request, reply, format, true);
  });
  for (const format of Object.keys(CATALOG_FORMATS) as CatalogFormat[]) {
    app.get(`${CATALOG_PATH}.${format}`, {
      schema: { tags: ['open data'], summary: `DCAT-AP.de catalog as ${CATALOG_FORMATS[format].mediaType}`, response },
    }, (request, reply) => serve(request, reply, format, false));
  }
};
