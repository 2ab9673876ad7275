/**
 * Rows → SensorThings JSON (OGC 18-088 §8 and §9): @iot.id and an absolute
 * @iot.selfLink on every entity, its properties, a navigation link per relation, and
 * expanded entities inline (`Datastreams: [...]`, with `Datastreams@iot.count` and
 * `Datastreams@iot.nextLink` when asked for / when there is more).
 *
 * As FROST-Server does (FROST-Server.Tests util/EntityUtils.checkEntity), entities inside
 * an expansion carry their navigation links only when $select names them, and $select
 * without id leaves out @iot.id.
 */
import { ENTITY_TYPES, LEVELS, datastreamId, microsToIso, type EntityType, type QueryOptions, type Row } from '../../storage/index.js';
import { STA_METRICS } from './vocabulary.js';

export interface Expansion {
  rows: Row[];
  more: boolean;
  count: number | null;
  /** The expansion's options, for its next link. */
  options: QueryOptions;
  top: number;
}

/** Rows carry their expansions under this key (never a column name). */
export const EXPANDED = Symbol('expanded');
export type ExpandedRow = Row & { [EXPANDED]?: Map<string, Expansion> };

export interface Links {
  /** The service root, e.g. https://daten.stadt.example/sta/v1.1 */
  base: string;
  licence: { id: string; name: string; url: string };
  attribution: string;
}

/** Epoch microseconds (a JavaScript number: exact until the year 2255) → ISO 8601. */
function isoOfMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const rest = micros - ms * 1000;
  const text = isoOfMs(ms);
  return rest === 0 ? text : `${text.slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
}

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
/** The last day isoOfMs wrote: a page's Observations mostly share their day. */
let lastDay = { startMs: NaN, prefix: '' };

/**
 * Date.prototype.toISOString's text, with the date part (`2026-10-01T`) kept from the
 * previous call on the same day: a tenth of the service's CPU while paging Observations
 * went to toISOString (issue 21).
 */
function isoOfMs(ms: number): string {
  const startMs = Math.floor(ms / DAY_MS) * DAY_MS;
  if (startMs !== lastDay.startMs) {
    const text = new Date(ms).toISOString();
    // Invalid dates throw in toISOString above, as they always did.
    lastDay = { startMs, prefix: text.slice(0, -13) };
  }
  let rest = ms - startMs;
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const second = rest % 60;
  rest = (rest - second) / 60;
  const minute = rest % 60;
  const hour = (rest - minute) / 60;
  return `${lastDay.prefix}${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second]}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
const iso = (micros: unknown): string | null => (micros === null || micros === undefined ? null : Number.isSafeInteger(micros) ? isoOfMicros(micros as number) : microsToIso(BigInt(micros as number)));
const interval = (start: unknown, end: unknown): string | null => (start === null || start === undefined ? null : `${iso(start)}/${iso(end)}`);
const point = (row: Row): object | null => (row.latitude === null || row.longitude === null ? null : { type: 'Point', coordinates: [row.longitude, row.latitude] });

/** The @iot.id of a row of `type`. */
export function idOf(type: EntityType, row: Row): number | string {
  return type.name === 'Observation' ? `${row.datastream_id}-${row.t0}` : Number(row.id);
}

/** OData key syntax: numbers as they are, strings quoted with '' for '. */
export function keyText(id: number | string): string {
  return typeof id === 'number' ? String(id) : `'${id.replace(/'/g, "''")}'`;
}

export function selfLink(links: Links, type: EntityType, row: Row): string {
  return `${links.base}/${type.plural}(${keyText(idOf(type, row))})`;
}

const METRICS = new Map(STA_METRICS.map((m) => [m.id, m]));

/** The properties of an entity (without @iot.* and links), in the order of the standard's tables. */
export function propertiesOf(type: EntityType, row: Row, links: Links): Record<string, unknown> {
  switch (type.name) {
    case 'Thing': return { name: row.name, description: row.description, properties: row.properties };
    case 'Location': return { name: row.name, description: row.description, encodingType: 'application/geo+json', location: point(row) };
    case 'HistoricalLocation': return { time: iso(row.time) };
    case 'Sensor': return { name: row.name, description: row.description, encodingType: 'text/plain', metadata: row.metadata, properties: row.properties };
    case 'ObservedProperty': return { name: row.name, definition: row.definition, description: row.description, properties: row.properties };
    case 'FeatureOfInterest': return { name: row.name, description: row.description, encodingType: 'application/geo+json', feature: point(row), properties: row.properties };
    case 'Datastream': {
      const level = row.level as string;
      const metric = METRICS.get(row.metric as string);
      // Each series links its hourly and daily means, and each mean its raw series.
      const related: Record<string, unknown> = {};
      for (const other of LEVELS) {
        if (other === level) continue;
        const id = datastreamId(other, row.asset_id as string, row.metric as string, row.channel as string);
        related[other === 'raw' ? 'raw' : other === 'hour' ? 'hourly' : 'daily'] = { '@iot.id': id, '@iot.selfLink': `${links.base}/Datastreams(${id})` };
      }
      return {
        name: row.name,
        description: row.description,
        unitOfMeasurement: { name: row.unit_name, symbol: row.unit_symbol, definition: row.unit_definition },
        observationType: 'http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement',
        observedArea: point(row),
        phenomenonTime: interval(row.phenomenon_start, row.phenomenon_end),
        resultTime: level === 'raw' ? interval(row.phenomenon_start, row.phenomenon_end) : null,
        properties: {
          ...(row.properties as object),
          ...(level === 'raw' ? { aggregates: { hourly: related.hourly, daily: related.daily } } : { aggregateOf: related.raw, siblings: level === 'hour' ? { daily: related.daily } : { hourly: related.hourly } }),
          ...(metric && metric.min !== undefined ? { plausibleRange: [metric.min, metric.max] } : {}),
          licence: links.licence,
          attribution: links.attribution,
        },
      };
    }
    case 'Observation': {
      const aggregate = row.level !== 'raw';
      const out: Record<string, unknown> = {
        phenomenonTime: aggregate ? interval(row.t0, row.t1) : iso(row.t0),
        resultTime: iso(row.result_time),
        result: row.value,
      };
      if (row.result_quality !== null && row.result_quality !== undefined) out.resultQuality = row.result_quality;
      if (row.parameters !== null && row.parameters !== undefined) out.parameters = row.parameters;
      return out;
    }
  }
}

/** The time of the reading ObservationEncoder.fields saw last, as text. */
let lastTime = { ms: Number.NaN, micros: '', iso: '' };

/**
 * One Datastream's raw Observations as MQTT payload bytes: the JSON GET answers (a unit test
 * holds the two equal), from parts encoded once per Datastream, so a reading costs copying
 * them and writing its id digits, time and value. Publishing runs for every public reading
 * ingest commits (tens of thousands a second), where building the object and serialising
 * it cost 5 µs of CPU per message on the loaded test machine.
 */
export class ObservationEncoder {
  /**
   * The payload is parts[0] key parts[1] key parts[2] time parts[3] time parts[4] value [quality]
   * parts[5] key parts[6] key parts[7], where key is `{datastreamId}-{micros}`.
   *
   * The parts depend only on the links, so all encoders of one publisher share them and an
   * encoder holds no more than its Datastream's id: the MQTT publisher keeps one per series,
   * and with a Buffer of its own per part a city of 20,000 devices (112,000 series) held
   * 100 MB in them and ran ingest out of its 256 MB heap in `bench ingest`.
   */
  private readonly parts: readonly Buffer[];
  private readonly fixed: number;
  /** The Datastream's id as the payload writes it. */
  readonly datastream: string;

  constructor(links: Links, datastreamId: number) {
    const shared = sharedParts(links);
    this.parts = shared.parts;
    this.fixed = shared.fixed;
    this.datastream = String(datastreamId);
  }

  /** Byte length of a payload; `micros`, `time`, `value`, `quality` as written (ASCII). */
  length(micros: string, time: string, value: string, quality: string): number {
    return this.fixed + 4 * (this.datastream.length + 1 + micros.length) + 2 * time.length + value.length + quality.length;
  }

  /** Writes the payload at `at`; returns the offset after it. */
  write(target: Buffer, at: number, micros: string, time: string, value: string, quality: string): number {
    const p = this.parts;
    let i = at;
    i = this.key(target, putPart(target, i, p[0]!), micros);
    i = this.key(target, putPart(target, i, p[1]!), micros);
    i = putPart(target, i, p[2]!);
    i += target.write(time, i, 'latin1');
    i = putPart(target, i, p[3]!);
    i += target.write(time, i, 'latin1');
    i = putPart(target, i, p[4]!);
    i += target.write(value, i, 'latin1');
    if (quality) i += target.write(quality, i, 'latin1');
    i = this.key(target, putPart(target, i, p[5]!), micros);
    i = this.key(target, putPart(target, i, p[6]!), micros);
    return putPart(target, i, p[7]!);
  }

  /** Writes `{datastreamId}-{micros}` at `at`. */
  private key(target: Buffer, at: number, micros: string): number {
    let i = at + target.write(this.datastream, at, 'latin1');
    target[i++] = 0x2d; // '-'
    return i + target.write(micros, i, 'latin1');
  }

  /** The fields of a reading as the payload writes them. */
  static fields(ms: number, value: number, quality: string): [string, string, string, string] {
    // A batch holds an uplink's readings one after another, all of one time: its text is made once.
    if (ms !== lastTime.ms) lastTime = { ms, micros: `${ms}000`, iso: new Date(ms).toISOString() };
    return [lastTime.micros, lastTime.iso, JSON.stringify(value), quality === 'ok' ? '' : `,"resultQuality":${JSON.stringify(quality)}`];
  }

  /** The payload as a Buffer of its own. */
  payload(ms: number, value: number, quality: string): Buffer {
    const f = ObservationEncoder.fields(ms, value, quality);
    const out = Buffer.allocUnsafe(this.length(...f));
    this.write(out, 0, ...f);
    return out;
  }
}

/** The parts of an Observation's payload around its key, time and value, once per links object. */
const partsByLinks = new WeakMap<Links, { parts: Buffer[]; fixed: number }>();

function sharedParts(links: Links): { parts: Buffer[]; fixed: number } {
  let shared = partsByLinks.get(links);
  if (!shared) {
    const obs = `${links.base}/Observations('`;
    const parts = [
      `{"@iot.selfLink":"${obs}`, `')","@iot.id":"`, '","phenomenonTime":"', '","resultTime":"', '","result":',
      `,"Datastream@iot.navigationLink":"${obs}`, `')/Datastream","FeatureOfInterest@iot.navigationLink":"${obs}`, `')/FeatureOfInterest"}`,
    ].map((p) => Buffer.from(p));
    shared = { parts, fixed: parts.reduce((n, b) => n + b.length, 0) };
    partsByLinks.set(links, shared);
  }
  return shared;
}

function putPart(target: Buffer, at: number, part: Buffer): number {
  target.set(part, at);
  return at + part.length;
}

/** The constant pieces of an Observation's JSON around its id, already JSON-escaped, once per links object. */
interface ObservationTextParts {
  /** `{"@iot.selfLink":"{base}/Observations('` */
  open: string;
  /** `{base}/Observations('` */
  obs: string;
  /** `')/Datastream","FeatureOfInterest@iot.navigationLink":"{base}/Observations('` */
  between: string;
}

const textPartsByLinks = new WeakMap<Links, ObservationTextParts>();

function observationTextParts(links: Links): ObservationTextParts {
  let parts = textPartsByLinks.get(links);
  if (!parts) {
    // JSON.stringify escapes the base as entityText would; the slices drop its quotes.
    const obs = JSON.stringify(`${links.base}/Observations('`).slice(1, -1);
    parts = { open: `{"@iot.selfLink":"${obs}`, obs, between: `')/Datastream","FeatureOfInterest@iot.navigationLink":"${obs}` };
    textPartsByLinks.set(links, parts);
  }
  return parts;
}

/** A JSON value as JSON.stringify writes it, numbers without the call. */
const jsonValue = (value: unknown): string => (typeof value === 'number' ? (Number.isFinite(value) ? String(value) : 'null') : value === undefined ? 'null' : JSON.stringify(value));

/**
 * One Observation as JSON text, at the top level and without $select or $expand: the
 * bytes entityText writes (serialize.test.ts holds the two equal), without building the
 * entity object. A page of 1,000 Observations is the bulk of `bench sta`'s paging (issue 21).
 */
export function observationText(row: Row, links: Links): string {
  const parts = observationTextParts(links);
  const id = `${row.datastream_id}-${row.t0}`;
  const aggregate = row.level !== 'raw';
  const start = iso(row.t0);
  const phenomenonTime = aggregate ? `"${start}/${iso(row.t1)}"` : start === null ? 'null' : `"${start}"`;
  const resultTime = row.result_time === row.t0 && !aggregate ? phenomenonTime : jsonValue(iso(row.result_time));
  let text = `${parts.open}${id}')","@iot.id":"${id}","phenomenonTime":${phenomenonTime},"resultTime":${resultTime},"result":${jsonValue(row.value)}`;
  if (row.result_quality !== null && row.result_quality !== undefined) text += `,"resultQuality":${JSON.stringify(row.result_quality)}`;
  if (row.parameters !== null && row.parameters !== undefined) text += `,"parameters":${JSON.stringify(row.parameters)}`;
  return `${text},"Datastream@iot.navigationLink":"${parts.obs}${id}${parts.between}${id}')/FeatureOfInterest"}`;
}

/**
 * A collection page as UTF-8 bytes: the members of `head` (a JSON object's text), then
 * `value` with each row's entity text, encoded into one growing buffer as it is written.
 * Joining a page's texts into one string and encoding that took twice as long (1,000
 * Observations: 2.2 against 1.1-1.4 ms with observationText, Node 24): the joined
 * string was copied again to flatten it, then encoded.
 */
export function pageBytes(head: string, rows: readonly ExpandedRow[], write: (row: ExpandedRow) => string): Buffer {
  const start = `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"value":[`;
  let out = Buffer.allocUnsafe(Math.max(4096, start.length * 3 + rows.length * 600));
  let at = out.write(start, 0, 'utf8');
  for (let i = 0; i < rows.length; i++) {
    const text = write(rows[i]!);
    // A UTF-16 code unit is at most 3 bytes of UTF-8; the comma and the closing ]} follow.
    const need = at + text.length * 3 + 3;
    if (need > out.length) {
      const larger = Buffer.allocUnsafe(Math.max(out.length * 2, need));
      out.copy(larger, 0, 0, at);
      out = larger;
    }
    if (i > 0) out[at++] = 0x2c; // ,
    at += out.write(text, at, 'utf8');
  }
  out[at++] = 0x5d; // ]
  out[at++] = 0x7d; // }
  return out.subarray(0, at);
}

/**
 * One entity as JSON text. (Top-level Observations without $select or $expand are written
 * by observationText instead: on Node 24 with constant pieces escaped once and toISOString's
 * date part kept, 1.1 against 2.9-4.4 ms per 1,000, where template strings had measured
 * slower than JSON.stringify, 3.5-5.4 against 2.7-3.1 ms, on Node 20.)
 */
export function entityText(type: EntityType, row: ExpandedRow, options: QueryOptions, links: Links, topLevel: boolean): string {
  return JSON.stringify(entityJson(type, row, options, links, topLevel));
}

/** One entity as JSON. `topLevel`: not inside an expansion (navigation links by default). */
export function entityJson(type: EntityType, row: ExpandedRow, options: QueryOptions, links: Links, topLevel: boolean): Record<string, unknown> {
  const select = options.select ? new Set(options.select) : null;
  const out: Record<string, unknown> = {};
  const self = selfLink(links, type, row);
  if (!select || select.has('id')) {
    out['@iot.selfLink'] = self;
    out['@iot.id'] = idOf(type, row);
  } else if (select.has('@iot.selfLink')) {
    out['@iot.selfLink'] = self;
  }
  const props = propertiesOf(type, row, links);
  for (const [name, value] of Object.entries(props)) {
    if (!select || select.has(name)) out[name] = value;
  }
  const expanded = row[EXPANDED];
  for (const [name, rel] of Object.entries(type.relations)) {
    const show = select ? select.has(name) : topLevel;
    if (show) out[`${name}@iot.navigationLink`] = `${self}/${name}`;
    const e = expanded?.get(name);
    if (!e) continue;
    const target = ENTITY_TYPES[rel.target];
    if (rel.many) {
      if (e.count !== null) out[`${name}@iot.count`] = e.count;
      out[name] = e.rows.map((r) => entityJson(target, r as ExpandedRow, e.options, links, false));
      if (e.more) out[`${name}@iot.nextLink`] = nextLink(`${self}/${name}`, e.options, e.top, { skip: e.options.skip + e.top });
    } else {
      out[name] = e.rows[0] ? entityJson(target, e.rows[0] as ExpandedRow, e.options, links, false) : null;
    }
  }
  return out;
}

/**
 * A next link: the same request at the next page. The query options are written again
 * from the parsed tree's source text (kept per request), so the link asks for exactly the
 * same collection, $count included; the page is named by `at`: the next $skip, or a
 * $skiptoken (skipTokenText) where the collection pages by keyset.
 */
export function nextLink(path: string, options: QueryOptions, top: number, at: { skip: number } | { skipToken: string }): string {
  const params: string[] = [];
  for (const [name, value] of Object.entries(options.text ?? {})) if (name !== '$top' && name !== '$skip' && name !== '$skiptoken') params.push(`${name}=${encodeQueryValue(value)}`);
  params.push(`$top=${top}`, 'skip' in at ? `$skip=${at.skip}` : `$skiptoken=${at.skipToken}`);
  return `${path}?${params.join('&')}`;
}

/**
 * The $skiptoken after an Observation row: its phenomenon time's start and end (epoch
 * microseconds) and its Datastream, the keyset of storage/sta/read.ts keysetOrder.
 * OData's server-driven paging (OData 4.01 Part 1, Protocol: "Server-Driven Paging") makes
 * the next link opaque to clients and names $skiptoken for the service's own state; ASP.NET
 * OData's skip token is the last entity's key and order values the same way
 * (https://learn.microsoft.com/en-us/odata/webapi/skiptoken-for-server-side-paging).
 * SensorThings 1.1 (OGC 18-088) takes @iot.nextLink from OData and prescribes no form.
 * FROST-Server writes $skip, or with its skip-filter setting a $skipFilter on the last
 * entity's order values: the same idea as this token. $skip from clients keeps working.
 */
export function skipTokenText(row: Row): string {
  return `${row.t0}~${row.t1}~${row.datastream_id}`;
}

/** Percent-encoding that keeps OData's $ ( ) ' , ; : / = readable; & + # % and spaces are encoded. */
function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(/%(24|2C|3B|3A|2F|3D|40)/g, (m) => decodeURIComponent(m));
}

/**
 * Observations as data arrays (OGC 18-088 §14.3): one block per Datastream with the
 * components asked for ($select) and a row of values per Observation.
 */
export function dataArrayJson(rows: Row[], options: QueryOptions, links: Links, observation: EntityType): Record<string, unknown>[] {
  // Without $select every property (FROST-Server.Tests c06dataarrays/DataArrayTests.OBSERVATION_PROPERTIES).
  const components = options.select ? options.select.filter((c) => c === 'id' || c in observation.properties) : ['id', 'phenomenonTime', 'result', 'resultTime', 'resultQuality', 'validTime', 'parameters'];
  const blocks = new Map<number, { rows: unknown[][] }>();
  for (const row of rows) {
    const ds = Number(row.datastream_id);
    let block = blocks.get(ds);
    if (!block) blocks.set(ds, (block = { rows: [] }));
    const props = propertiesOf(observation, row, links);
    block.rows.push(components.map((c) => (c === 'id' ? idOf(observation, row) : props[c] ?? null)));
  }
  return [...blocks.entries()].map(([ds, block]) => ({
    'Datastream@iot.navigationLink': `${links.base}/Datastreams(${ds})`,
    components,
    'dataArray@iot.count': block.rows.length,
    dataArray: block.rows,
  }));
}
