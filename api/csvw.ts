/**
 * Licence and attribution for the CSV downloads. A CSV file has nowhere standard to say
 * them: a comment line or an extra first row is not RFC 4180 and breaks readers that do
 * not expect it (spreadsheets, pandas and csv-parse with default options, R's read.csv).
 * So they travel beside the file, the way the W3C CSV on the Web recommendations put
 * them (Model for Tabular Data §5.2, Metadata Vocabulary):
 *
 * - every CSV answer carries `Link: <licence>; rel="license"` (RFC 8288; the relation
 *   HTML and Atom use), and `Link: <…-metadata.json?…>; rel="describedby";
 *   type="application/csvm+json"`;
 * - that metadata document is CSVW JSON-LD naming the very CSV URL (same query: a CSVW
 *   processor ignores metadata that does not name the file), the publisher, the licence
 *   (dc:license), the attribution dl-de/by-2-0 asks for (dc:rights) and each column with
 *   its datatype and unit.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { attributionLine, LICENCE } from '../city-profile.js';
import type { ApiContext } from './app.js';
import { DATASETS } from './open-data.js';

/** The query string of a request as it came (`?…`), or ''. */
function rawQuery(request: FastifyRequest): string {
  const q = request.url.indexOf('?');
  return q < 0 ? '' : request.url.slice(q);
}

/** The Link header value of a CSV answer: licence and its CSVW metadata, relative to the CSV's own URL. */
export function csvLinks(request: FastifyRequest, metadataName: string): string {
  return `<${LICENCE.url}>; rel="license", <${metadataName}${rawQuery(request)}>; rel="describedby"; type="application/csvm+json"`;
}

type Column = [name: string, datatype: string, description: string];

const COMMON: Column[] = [
  ['time', 'datetime', 'Zeitpunkt der Messung (bei Stunden- und Tageswerten: Beginn des Intervalls), ISO 8601 mit Zeitzone'],
  ['asset', 'string', 'Kennung des Sensorstandorts'],
  ['metric', 'string', 'Messgröße'],
  ['channel', 'string', 'Kanal der Messgröße (z. B. Fahrstreifen), leer wenn es nur einen gibt'],
  ['unit', 'string', 'Einheit (UCUM)'],
];

const TABLES: Record<'export' | 'series', Column[]> = {
  export: [...COMMON, ['value', 'double', 'Messwert'], ['quality', 'string', 'ok oder out_of_range']],
  series: [...COMMON, ['value', 'double', 'Messwert oder Mittelwert des Intervalls'], ['min', 'double', 'kleinster Wert des Intervalls'], ['max', 'double', 'größter Wert des Intervalls'], ['count', 'integer', 'Zahl der Messwerte im Intervall']],
};

function metadata(ctx: ApiContext, url: string, title: string, columns: Column[]): Record<string, unknown> {
  const c = ctx.city;
  return {
    '@context': ['http://www.w3.org/ns/csvw', { '@language': 'de' }],
    url,
    'dc:title': title,
    'dc:publisher': { 'schema:name': c.publisher, ...(c.publisherUrl ? { 'schema:url': { '@id': c.publisherUrl } } : {}) },
    'dc:license': { '@id': LICENCE.url },
    'dc:rights': attributionLine(c),
    dialect: { header: true, lineTerminators: ['\r\n'] },
    tableSchema: { columns: columns.map(([name, datatype, description]) => ({ name, titles: name, datatype, 'dc:description': description })) },
  };
}

export const csvwRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const response = { 200: Type.Any({ description: 'CSVW metadata (application/csvm+json)' }) };
  app.get('/api/v1/open/datasets/:id/export.csv-metadata.json', {
    schema: {
      tags: ['open data'], summary: 'CSVW metadata of the CSV export: licence, attribution, columns (linked from the CSV as rel="describedby")',
      params: Type.Object({ id: Type.Union(DATASETS.map((d) => Type.Literal(d.id))) }), response,
    },
  }, async (request, reply) => {
    const dataset = DATASETS.find((d) => d.id === request.params.id)!;
    reply.type('application/csvm+json; charset=utf-8');
    return metadata(ctx, `export.csv${rawQuery(request)}`, `${dataset.title}: CSV-Export`, TABLES.export);
  });
  app.get('/api/v1/open/assets/:id/series-metadata.json', {
    schema: {
      tags: ['open data'], summary: 'CSVW metadata of a series as CSV: licence, attribution, columns (linked from the CSV as rel="describedby")',
      params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$' }) }), response,
    },
  }, async (request, reply) => {
    reply.type('application/csvm+json; charset=utf-8');
    return metadata(ctx, `series${rawQuery(request)}`, `Zeitreihe ${request.params.id}`, TABLES.series);
  });
};
