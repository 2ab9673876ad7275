/**
 * Backpressure toward the database: however many batches close while the database is
 * slow, at most two of them are in the database at once; the rest wait, unacknowledged,
 * and are written in order when the database moves again. While one waits, ingest reads
 * nothing more from the broker. Here one device's latest-state
 * row is held locked by another session, so every batch touching that device blocks in
 * the database.
 */
import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import { upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { eventually, useTestService } from './helpers.js';

const FAST = '00000000000000f1';
const BLOCKED = '00000000000000b1';

/** A ChirpStack v4 JSON up event (integration.proto UplinkEvent field names), Cayenne LPP temperature 27.2 °C. */
function uplink(devEui: string, id: string, fCnt: number): string {
  return JSON.stringify({
    deduplicationId: id,
    time: new Date(Date.UTC(2026, 10, 24, 12, 0, fCnt)).toISOString(),
    deviceInfo: { devEui, applicationId: 'a1' },
    fCnt,
    fPort: 1,
    data: Buffer.from('03670110', 'hex').toString('base64'),
  });
}

describe('ingest with a blocked database', () => {
  // One message per batch, so every message is its own transaction.
  const t = useTestService({ INGEST_BATCH_MAX_SIZE: '1', INGEST_BATCH_MAX_AGE_MS: '5' }, async (db) => {
    await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    await upsertDevice(db.pool, { devEui: FAST, modelId: 'lpp' });
    await upsertDevice(db.pool, { devEui: BLOCKED, modelId: 'lpp' });
  });

  it('keeps at most two batches in the database and writes the rest once it moves', async () => {
    const { db, publisher } = t;
    const prefix = t.config.ingest.chirpstackPrefix!;
    const locker: pg.PoolClient = await db.pool.connect();
    try {
      await db.pool.query(`insert into latest_state (dev_eui, time, metrics) values ($1, null, '{}')`, [BLOCKED]);
      await locker.query('begin');
      await locker.query('select 1 from latest_state where dev_eui = $1 for update', [BLOCKED]);
      // The first batch commits at once; every later one waits on the locked row.
      await publisher.publishAsync(`${prefix}/a1/device/${FAST}/event/up`, uplink(FAST, 'bp-fast', 1), { qos: 1 });
      for (let i = 0; i < 9; i++) {
        await publisher.publishAsync(`${prefix}/a1/device/${BLOCKED}/event/up`, uplink(BLOCKED, `bp-${i}`, 10 + i), { qos: 1 });
      }
      await eventually(async () => ((await db.pool.query("select 1 from uplinks where id = 'bp-fast'")).rowCount === 1 ? true : undefined));
      const waiting = async (): Promise<number> =>
        // Client sessions only: TimescaleDB's background jobs (aggregate refresh) may wait on the same locks.
        (await db.pool.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where datname = current_database() and backend_type = 'client backend' and wait_event_type = 'Lock'")).rows[0]!.n;
      await eventually(async () => ((await waiting()) >= 1 ? true : undefined));
      // Give any further batches time to reach the database, then count them.
      const counts: number[] = [];
      const held: number[] = [];
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 100));
        counts.push(await waiting());
        held.push(t.service.ingest.inFlight());
      }
      expect(Math.max(...counts)).toBeLessThanOrEqual(2);
      expect(Math.max(...counts)).toBeGreaterThanOrEqual(1);
      // Two batches in the database and one waiting for a slot: ingest reads no further,
      // the other six stay with the broker rather than in memory.
      expect(Math.max(...held)).toBe(3);
      await locker.query('commit');
    } finally {
      locker.release();
    }
    const stored = await eventually(async () => {
      const r = await db.pool.query<{ n: number }>('select count(*)::int as n from uplinks where dev_eui = $1', [BLOCKED]);
      return r.rows[0]!.n === 9 ? r.rows[0]!.n : undefined;
    });
    expect(stored).toBe(9);
  });
});
