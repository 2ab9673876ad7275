/**
 * A message whose rows the database refuses (here: a CHECK constraint an operator added
 * to readings, a refusal the adapters cannot foresee) must not hold its batch, and every
 * message behind it, for ever. The refused message becomes a dead letter with the
 * database's reason and its exact bytes; every other message of its batch is stored once;
 * ingest goes on.
 *
 * Payloads: Cayenne LPP temperature (type 0x67, 0.1 °C signed, big-endian), as in the
 * Cayenne LPP documentation (myDevices, "Cayenne Low Power Payload").
 */
import { describe, expect, it } from 'vitest';
import * as metrics from '../ingest/metrics.js';
import { upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { eventually, useTestService, type TestDatabase } from './helpers.js';

const DEVICE = '0004a30b001c0777';
const UPLINKS = 40;
const REFUSED_AT = 23;

async function prepare(db: TestDatabase): Promise<void> {
  await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
  await upsertDevice(db.pool, { devEui: DEVICE, modelId: 'lpp' });
  await db.pool.query("alter table readings add constraint plausible_temperature check (metric <> 'temperature' or value <= 60)");
}

/** Channel 3 temperature in 0.1 °C. */
function lpp(tenthsOfDegree: number): string {
  const b = Buffer.from([0x03, 0x67, 0, 0]);
  b.writeInt16BE(tenthsOfDegree, 2);
  return b.toString('base64');
}

describe('a message the database refuses', () => {
  // One batch for the whole burst, so the refused message shares it with the others.
  const t = useTestService({ INGEST_BATCH_MAX_AGE_MS: '500' }, prepare);

  it('is dead-lettered alone; the rest of its batch is stored and ingest goes on', async () => {
    const { db, publisher } = t;
    const topic = `${t.config.ingest.chirpstackPrefix!}/app1/device/${DEVICE}/event/up`;
    const event = (i: number, tenths: number) =>
      Buffer.from(JSON.stringify({
        deduplicationId: `refused-test-${i}`,
        time: new Date(Date.UTC(2026, 11, 2, 9, 0, i)).toISOString(),
        deviceInfo: { tenantId: 't', applicationId: 'app1', deviceName: 'lamp', devEui: DEVICE },
        fCnt: i,
        fPort: 1,
        data: lpp(tenths),
      }));
    const refused = event(REFUSED_AT, 850); // 85.0 °C: the constraint refuses it
    await Promise.all(Array.from({ length: UPLINKS }, (_, i) => publisher.publishAsync(topic, i === REFUSED_AT ? refused : event(i, 200 + i), { qos: 1 })));

    const stored = await eventually(async () => {
      const r = await db.pool.query<{ n: number }>("select count(*)::int as n from uplinks where id like 'refused-test-%'");
      return r.rows[0]!.n >= UPLINKS - 1 ? r.rows[0]!.n : undefined;
    }, { timeoutMs: 20_000 });
    expect(stored).toBe(UPLINKS - 1);
    const letters = await eventually(async () => {
      const r = await db.pool.query<{ topic: string; payload: Buffer; reason: string; detail: string }>('select topic, payload, reason, detail from dead_letters');
      return r.rows.length > 0 ? r.rows : undefined;
    });
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ topic, reason: 'storage_refused' });
    expect(letters[0]!.payload.equals(refused)).toBe(true);
    expect(letters[0]!.detail).toMatch(/SQLSTATE 23514.*plausible_temperature/);

    const readings = await db.pool.query<{ n: number; max: number }>("select count(*)::int as n, max(value) as max from readings where metric = 'temperature'");
    expect(readings.rows[0]).toEqual({ n: UPLINKS - 1, max: 23.9 });
    const missing = await db.pool.query(`select 1 from uplinks where id = 'refused-test-${REFUSED_AT}'`);
    expect(missing.rowCount).toBe(0);

    // Everything was acknowledged (nothing is held back), and the next message goes through.
    await publisher.publishAsync(topic, event(UPLINKS, 210), { qos: 1 });
    await eventually(async () => ((await db.pool.query(`select 1 from uplinks where id = 'refused-test-${UPLINKS}'`)).rowCount === 1 ? true : undefined));
    const dropped = await metrics.ingestDropped.get();
    expect(dropped.values.find((v) => v.labels.reason === 'storage_refused')?.value).toBe(1);
  }, 40_000);
});

describe('a database that refuses every message', () => {
  const t = useTestService({ INGEST_BATCH_MAX_AGE_MS: '500' }, async (db) => {
    await prepare(db);
    await db.pool.query("alter table readings add constraint no_temperature check (metric <> 'temperature')");
  });

  it('dead-letters at most 20 a minute, holds the rest, and stores them once the database takes them again', async () => {
    const { db, publisher } = t;
    const topic = `${t.config.ingest.chirpstackPrefix!}/app1/device/${DEVICE}/event/up`;
    const total = 30;
    await Promise.all(Array.from({ length: total }, (_, i) =>
      publisher.publishAsync(topic, Buffer.from(JSON.stringify({ deduplicationId: `all-refused-${i}`, deviceInfo: { devEui: DEVICE }, fCnt: i, fPort: 1, data: lpp(200 + i) })), { qos: 1 })));
    const count = async (sql: string) => (await db.pool.query<{ n: number }>(sql)).rows[0]!.n;
    await eventually(async () => ((await count("select count(*)::int as n from dead_letters where reason = 'storage_refused'")) >= 20 ? true : undefined), { timeoutMs: 30_000 });
    // The budget is spent: the others wait unacknowledged instead of becoming dead letters.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await count("select count(*)::int as n from dead_letters where reason = 'storage_refused'")).toBe(20);
    expect(await count('select count(*)::int as n from uplinks')).toBe(0);

    await db.pool.query('alter table readings drop constraint no_temperature');
    await eventually(async () => ((await count('select count(*)::int as n from uplinks')) >= total - 20 ? true : undefined), { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await count('select count(*)::int as n from uplinks')).toBe(total - 20);
    expect(await count('select count(*)::int as n from dead_letters')).toBe(20);
    const stored = await db.pool.query<{ id: string }>('select id from uplinks');
    const lettered = await db.pool.query<{ payload: Buffer }>('select payload from dead_letters');
    const ids = new Set([...stored.rows.map((r) => r.id), ...lettered.rows.map((r) => JSON.parse(r.payload.toString()).deduplicationId as string)]);
    expect(ids.size).toBe(total); // every message is in exactly one place
  }, 60_000);
});
