/**
 * Documents that portals poll (the DATEX II parking feeds, the DCAT-AP.de catalog) are
 * built from the database at most once per `maxAgeMs` per key and served from memory in
 * between, with the validators HTTP caching needs (RFC 9110 §8.8, §13): a strong ETag
 * (a hash of the bytes, so a rebuild with the same content keeps it), Last-Modified
 * (the newest change of the data, given by the builder, not the build time),
 * If-None-Match and If-Modified-Since answered 304, and gzip when the client accepts it.
 *
 * Design note: a request never waits for a rebuild once a document exists. A request
 * that finds its document older than `maxAgeMs` gets it as it is and starts one rebuild
 * in the background (stale-while-revalidate), so answers are at most about `maxAgeMs`
 * plus one build behind the database, and the cost of building is paid once per period,
 * not per request. Only the very first request for a key waits for the build. An idle
 * service builds nothing. A failed rebuild keeps the last good document.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram, register } from 'prom-client';

const gzipAsync = promisify(gzip);

const builds = (register.getSingleMetric('stadtfunk_api_document_builds_total') as Counter<'document'> | undefined) ??
  new Counter({ name: 'stadtfunk_api_document_builds_total', help: 'Cached open-data documents built from the database (DATEX II feeds, catalog)', labelNames: ['document'] });
const buildSeconds = (register.getSingleMetric('stadtfunk_api_document_build_duration_seconds') as Histogram<'document'> | undefined) ??
  new Histogram({ name: 'stadtfunk_api_document_build_duration_seconds', help: 'Time to build a cached open-data document, database read included', labelNames: ['document'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

/** How often the document labelled `document` was built so far (tests, benchmarks). */
export async function documentBuilds(document: string): Promise<number> {
  const metric = await builds.get();
  return metric.values.find((v) => v.labels.document === document)?.value ?? 0;
}

export interface CachedDocument {
  /** The identity-encoded bytes. */
  readonly body: Buffer;
  /** Strong validator of the identity bytes, quoted; the gzip form adds `-gzip` inside the quotes. */
  readonly etag: string;
  /** The newest change of what the document shows, whole seconds (HTTP dates have no fraction). */
  readonly lastModified: Date;
  /** The gzip-encoded bytes, compressed once on first use. */
  gzip(): Promise<Buffer>;
}

export interface BuiltDocument {
  body: string | Buffer;
  /** The newest change of what the document shows; null when it shows nothing dated. */
  lastModified: Date | null;
}

interface Entry {
  doc: CachedDocument | null;
  checkedAt: number;
  pending: Promise<CachedDocument> | null;
}

function makeDocument(body: Buffer, etag: string, lastModified: Date): CachedDocument {
  let zipped: Promise<Buffer> | null = null;
  return {
    body, etag,
    lastModified: new Date(Math.floor(lastModified.getTime() / 1000) * 1000),
    gzip: () => (zipped ??= gzipAsync(body)),
  };
}

export class DocumentCache<K extends string> {
  private readonly entries = new Map<K, Entry>();
  /**
   * Last-Modified is never older than this cache: a restart may bring other code or
   * another city profile, and a client's If-Modified-Since from before must not get 304.
   */
  private readonly since = Date.now();

  /**
   * @param maxAgeMs how long a built document is served before a request rebuilds it in the background
   * @param maxEntries most keys kept (keys may come from requests, e.g. the Host of a catalog); the oldest goes first. Default 16.
   */
  /** @param label the metrics label of a key's document (keys may be unbounded, labels must not be) */
  constructor(private readonly opts: { maxAgeMs: number; maxEntries?: number; label: (key: K) => string; build: (key: K) => Promise<BuiltDocument>; onRefreshError: (error: unknown) => void }) {}

  get(key: K): Promise<CachedDocument> {
    const entry = this.entries.get(key);
    if (entry?.doc) {
      if (Date.now() - entry.checkedAt >= this.opts.maxAgeMs && !entry.pending) {
        this.refresh(key, entry).catch(this.opts.onRefreshError);
      }
      return Promise.resolve(entry.doc);
    }
    if (entry?.pending) return entry.pending;
    if (this.entries.size >= (this.opts.maxEntries ?? 16)) this.entries.delete(this.entries.keys().next().value as K);
    const fresh: Entry = { doc: null, checkedAt: 0, pending: null };
    this.entries.set(key, fresh);
    return this.refresh(key, fresh).catch((error: unknown) => {
      if (this.entries.get(key) === fresh) this.entries.delete(key);
      throw error;
    });
  }

  /** Forgets every document: the next request builds anew (tests, registry changes). */
  clear(): void {
    this.entries.clear();
  }

  private refresh(key: K, entry: Entry): Promise<CachedDocument> {
    const started = Date.now();
    const label = this.opts.label(key);
    const stopTimer = buildSeconds.startTimer({ document: label });
    builds.inc({ document: label });
    const pending = this.opts.build(key).then(({ body, lastModified }) => {
      stopTimer();
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      if (entry.doc && entry.doc.body === bytes) {
        entry.checkedAt = started;
        return entry.doc;
      }
      const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 32)}"`;
      // The same bytes keep the same document, and with it its gzip form.
      if (!entry.doc || entry.doc.etag !== etag) entry.doc = makeDocument(bytes, etag, new Date(Math.max(lastModified?.getTime() ?? 0, this.since)));
      entry.checkedAt = started;
      return entry.doc;
    }).finally(() => {
      entry.pending = null;
    });
    entry.pending = pending;
    return pending;
  }
}

/** The entity tags an If-None-Match names (weak ones as their opaque tag: the comparison is weak, RFC 9110 §13.1.2). */
function tagsOf(header: string): string[] {
  return header.split(',').map((t) => t.trim().replace(/^W\//, '')).filter(Boolean);
}

/** Whether the client already has this representation (RFC 9110 §13.2.2: If-None-Match first, else If-Modified-Since). */
export function notModified(headers: FastifyRequest['headers'], etag: string, lastModified: Date): boolean {
  const inm = headers['if-none-match'];
  if (typeof inm === 'string') {
    const tags = tagsOf(inm);
    return tags.includes('*') || tags.includes(etag);
  }
  const ims = headers['if-modified-since'];
  if (typeof ims === 'string') {
    const since = Date.parse(ims);
    return Number.isFinite(since) && lastModified.getTime() <= since;
  }
  return false;
}

/** Whether Accept-Encoding allows gzip (RFC 9110 §12.5.3: a q of 0 refuses; `*` stands for codings not named). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  let gzipQ: number | null = null;
  let starQ: number | null = null;
  for (const part of header.split(',')) {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    const value = Number.isFinite(q) ? q : 0;
    if (coding.trim() === 'gzip' || coding.trim() === 'x-gzip') gzipQ = value;
    else if (coding.trim() === '*') starQ = value;
  }
  return (gzipQ ?? starQ ?? 0) > 0;
}

/**
 * Answers with the document: 304 when the client's validators match, else the body,
 * gzip-encoded when accepted. `Vary: Accept-Encoding` because the bytes depend on it.
 */
export async function sendDocument(request: FastifyRequest, reply: FastifyReply, doc: CachedDocument, o: { contentType: string; cacheControl: string; link?: string; vary?: string }): Promise<FastifyReply> {
  const zipped = acceptsGzip(request.headers['accept-encoding']);
  const etag = zipped ? `${doc.etag.slice(0, -1)}-gzip"` : doc.etag;
  reply.header('etag', etag);
  reply.header('last-modified', doc.lastModified.toUTCString());
  reply.header('cache-control', o.cacheControl);
  reply.header('vary', o.vary ? `${o.vary}, Accept-Encoding` : 'Accept-Encoding');
  if (o.link) reply.header('link', o.link);
  // Either form's tag matches: a cache may hold the other encoding of the same document.
  if (notModified(request.headers, etag, doc.lastModified) || notModified(request.headers, doc.etag, doc.lastModified)) {
    return reply.code(304).send();
  }
  reply.type(o.contentType);
  if (!zipped) return reply.send(doc.body);
  reply.header('content-encoding', 'gzip');
  return reply.send(await doc.gzip());
}
