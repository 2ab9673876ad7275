/**
 * Dead letters readable at any size (issue 26, item 2): the list answers with a preview
 * of each payload (its first bytes, selected in the database) and its length, never the
 * payload; the whole payload is a separate download, streamed in slices, admin only and
 * audited. A 48 MB payload stored in a real PostgreSQL: the list stays small and the
 * service's memory flat; the download has the exact bytes.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { createApiKey } from '../api/auth.js';
import { writeBatch } from '../storage/index.js';
import { createTestDatabase, testLog, type TestDatabase } from './helpers.js';

const BIG_MB = 48;
let db: TestDatabase;
let app: FastifyInstance;
let base: string;
let adminKey: string;
let technicianKey: string;
let bigId: number;
let bigSha256: string;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await buildApp({
    pool: db.pool, log: testLog, version: 'test', timescale: db.timescale,
    status: async () => ({ database: { ok: true, embedded: false, timescale: db.timescale }, broker: { ok: true, embedded: false } }),
  });
  adminKey = (await createApiKey(db.pool, 'ops', 'admin')).key;
  technicianKey = (await createApiKey(db.pool, 'tech', 'technician')).key;
  await writeBatch(db.pool, {
    uplinks: [], readings: [], healthReadings: [],
    deadLetters: [
      { receivedAt: new Date('2026-11-01T10:00:00Z'), topic: 'application/1/device/00000000000000aa/event/up', payload: Buffer.from('{"deduplicationId":"x","data":"kürbis"}'), reason: 'invalid_message', detail: 'time: missing', devEui: '00000000000000aa' },
      { receivedAt: new Date('2026-11-01T10:00:01Z'), topic: 'application/1/device/00000000000000aa/event/up', payload: Buffer.from([0xff, 0x00, 0x01]), reason: 'invalid_json', detail: null, devEui: null },
    ],
  });
  // 48 MB of incompressible bytes made by the server itself (a sha-256 chain), so that
  // the test process never holds them: as ingest would store a huge message.
  const { rows } = await db.pool.query<{ id: string; sha: string }>(
    `insert into dead_letters (topic, payload, reason, message_hash)
     select 'application/1/device/00000000000000bb/event/up', p, 'oversize_payload', sha256(p)
     from (select string_agg(sha256(int4send(i)), ''::bytea order by i) as p from generate_series(1, $1::int * 32768) i) s
     returning id, encode(sha256(payload), 'hex') as sha`,
    [BIG_MB],
  );
  bigId = Number(rows[0]!.id);
  bigSha256 = rows[0]!.sha;
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}, 120_000);

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

/** A full garbage collection on demand (V8's gc function, exposed without a command-line flag). */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** Runs `work` and returns its result with the highest RSS growth seen meanwhile (sampled every 2 ms). */
async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growthMb: number }> {
  global.gc?.();
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 2);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, growthMb: (peak - start) / 1024 / 1024 };
  } finally {
    clearInterval(timer);
  }
}

interface Item {
  id: number;
  reason: string;
  payload: { length: number; storedLength: number; sha256: string | null; previewBase64: string; previewText: string | null; truncated: boolean; url: string };
}

describe('the dead-letter list', () => {
  it('shows a bounded preview and the length of a 48 MB payload, and the service does not load it', async () => {
    const { result, growthMb } = await peakRssGrowth(async () => {
      const res = await fetch(`${base}/api/v1/dead-letters?reason=oversize_payload&limit=1`, { headers: { authorization: `Bearer ${adminKey}` } });
      return { status: res.status, text: await res.text() };
    });
    expect(result.status).toBe(200);
    expect(result.text.length).toBeLessThan(2_000);
    const item = (JSON.parse(result.text) as { items: Item[] }).items[0]!;
    expect(item.id).toBe(bigId);
    expect(item.payload).toMatchObject({ length: BIG_MB * 1024 * 1024, storedLength: BIG_MB * 1024 * 1024, truncated: true, url: `/api/v1/dead-letters/${bigId}/payload` });
    // The preview is the payload's first 256 bytes: the first link of the chain, sha256(int4send(1)).
    const preview = Buffer.from(item.payload.previewBase64, 'base64');
    expect(preview).toHaveLength(256);
    expect(preview.subarray(0, 32)).toEqual(createHash('sha256').update(Buffer.from([0, 0, 0, 1])).digest());
    // Returning the payload as base64 (as before) grew this process by about 150 MB.
    expect(growthMb).toBeLessThan(30);
  });

  it('shows a text preview of a UTF-8 payload and base64 of any other, with their lengths', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/dead-letters?limit=10&previewBytes=30', headers: { authorization: `Bearer ${adminKey}` } });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Item[];
    const json = items.find((i) => i.reason === 'invalid_message')!;
    // 30 bytes cut nowhere near a multi-byte character; the whole message is 40 bytes.
    expect(json.payload).toMatchObject({ length: 40, storedLength: 40, truncated: true, previewText: '{"deduplicationId":"x","data":' });
    const binary = items.find((i) => i.reason === 'invalid_json')!;
    expect(binary.payload).toMatchObject({ length: 3, truncated: false, previewText: null, previewBase64: Buffer.from([0xff, 0, 1]).toString('base64') });
    // A preview that ends inside "ü" (the message's 33rd and 34th bytes) drops the cut character.
    const cut = await app.inject({ method: 'GET', url: '/api/v1/dead-letters?reason=invalid_message&previewBytes=33', headers: { authorization: `Bearer ${adminKey}` } });
    expect((cut.json().items as Item[])[0]!.payload.previewText).toBe('{"deduplicationId":"x","data":"k');
  });
});

describe('the dead-letter download', () => {
  it('streams the exact 48 MB with its length, and the service holds only a slice at a time', async () => {
    // Live memory, not RSS: V8 frees the slices' garbage only when it gets round to it (up
    // to 64 MB of Buffers), so after every 4 MB received a full collection runs and what is
    // still held is sampled. Holding the payload would show as 48 MB and more.
    const gc = collector();
    gc();
    const live = (): number => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const before = live();
    let peak = before;
    const result = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: number; sha256: string }>((resolve, reject) => {
      http.get(`${base}/api/v1/dead-letters/${bigId}/payload`, { headers: { authorization: `Bearer ${adminKey}` } }, (res) => {
        const hash = createHash('sha256');
        let bytes = 0;
        let nextSample = 4 * 1024 * 1024;
        res.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          bytes += chunk.length;
          if (bytes >= nextSample) {
            nextSample += 4 * 1024 * 1024;
            gc();
            gc();
            peak = Math.max(peak, live());
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, sha256: hash.digest('hex') }));
        res.on('error', reject);
      }).on('error', reject);
    });
    const growthMb = (peak - before) / 1024 / 1024;
    expect(result.status).toBe(200);
    expect(result.headers['content-type']).toBe('application/octet-stream');
    expect(result.headers['content-length']).toBe(String(BIG_MB * 1024 * 1024));
    expect(result.headers['content-disposition']).toBe(`attachment; filename="dead-letter-${bigId}.bin"`);
    expect(result.bytes).toBe(BIG_MB * 1024 * 1024);
    expect(result.sha256).toBe(bigSha256);
    expect(growthMb).toBeLessThan(12);
  });

  it('is for admins only, audited, and a 404 for an id that does not exist', async () => {
    const denied = await app.inject({ method: 'GET', url: `/api/v1/dead-letters/${bigId}/payload`, headers: { authorization: `Bearer ${technicianKey}` } });
    expect(denied.statusCode).toBe(403);
    const missing = await app.inject({ method: 'GET', url: '/api/v1/dead-letters/999999/payload', headers: { authorization: `Bearer ${adminKey}` } });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toBe('dead letter 999999 not found; GET /api/v1/dead-letters lists what exists');
    const small = await app.inject({ method: 'GET', url: '/api/v1/dead-letters?reason=invalid_json', headers: { authorization: `Bearer ${adminKey}` } });
    const id = (small.json().items as Item[])[0]!.id;
    const download = await app.inject({ method: 'GET', url: `/api/v1/dead-letters/${id}/payload`, headers: { authorization: `Bearer ${adminKey}` } });
    expect(download.rawPayload).toEqual(Buffer.from([0xff, 0, 1]));
    const audit = await app.inject({ method: 'GET', url: '/api/v1/audit', headers: { authorization: `Bearer ${adminKey}` } });
    const downloads = (audit.json().items as { action: string; target: string; actor: string }[]).filter((r) => r.action === 'dead_letter.download');
    expect(downloads.map((r) => [r.actor, r.target])).toEqual(expect.arrayContaining([['ops', String(id)], ['ops', String(bigId)]]));
  });
});

describe('a dead letter of which ingest kept only the start (issue 26, item 1)', () => {
  it('shows the whole length and SHA-256, stores one row per whole payload, and sends the hash with the download', async () => {
    const topic = 'application/1/device/00000000000000cc/event/up';
    const prefix = Buffer.alloc(4096, 0x61);
    const cut = (length: number, sha256: Buffer) => ({
      receivedAt: new Date('2026-12-05T10:00:00Z'), topic, payload: prefix, reason: 'oversize_payload', detail: `payload of ${length} bytes exceeds INGEST_MAX_PAYLOAD_BYTES=65536`, devEui: null,
      payloadLength: length, payloadSha256: sha256,
    });
    const first = createHash('sha256').update('first whole payload').digest();
    const second = createHash('sha256').update('second whole payload').digest();
    // The first one twice (a redelivery), and another with the same prefix.
    for (const deadLetters of [[cut(120_000_000, first)], [cut(120_000_000, first), cut(70_000, second)]]) {
      await writeBatch(db.pool, { uplinks: [], readings: [], healthReadings: [], deadLetters });
    }
    const res = await app.inject({ method: 'GET', url: '/api/v1/dead-letters?reason=oversize_payload&limit=10', headers: { authorization: `Bearer ${adminKey}` } });
    const items = (res.json().items as (Item & { topic: string })[]).filter((i) => i.topic === topic);
    expect(items.map((i) => [i.payload.length, i.payload.storedLength, i.payload.sha256]).sort()).toEqual([
      [120_000_000, 4096, first.toString('hex')],
      [70_000, 4096, second.toString('hex')],
    ].sort());
    const id = items.find((i) => i.payload.length === 120_000_000)!.id;
    const download = await app.inject({ method: 'GET', url: `/api/v1/dead-letters/${id}/payload`, headers: { authorization: `Bearer ${adminKey}` } });
    expect(download.rawPayload).toEqual(prefix);
    expect(download.headers['x-payload-sha256']).toBe(first.toString('hex'));
  });
});
