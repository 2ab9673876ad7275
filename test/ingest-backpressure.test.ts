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
import { buildUplinkFrame, createKeyVault, keyAad } from '../ingest/lorawan/index.js';
import { gatewayUplinkMessage } from '../simulators/messages.js';
import { upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { eventually, TEST_MASTER_KEY, useTestService } from './helpers.js';

const FAST = '00000000000000f1';
const BLOCKED = '00000000000000b1';

type Db = { pool: pg.Pool };

/** Client sessions waiting on a lock (TimescaleDB's background jobs may wait on the same locks). */
async function sessionsWaitingOnLocks(db: Db): Promise<number> {
  const r = await db.pool.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where datname = current_database() and backend_type = 'client backend' and wait_event_type = 'Lock'");
  return r.rows[0]!.n;
}

/**
 * Runs `body` while another session holds BLOCKED's latest-state row locked, releases
 * it, and returns how many of BLOCKED's uplinks are stored once `expected` are.
 */
async function withBlockedDevice(db: Db, body: () => Promise<void>, expected: number): Promise<number> {
  const locker: pg.PoolClient = await db.pool.connect();
  try {
    await db.pool.query(`insert into latest_state (dev_eui, time, metrics) values ($1, null, '{}')`, [BLOCKED]);
    await locker.query('begin');
    await locker.query('select 1 from latest_state where dev_eui = $1 for update', [BLOCKED]);
    await body();
    await locker.query('commit');
  } finally {
    locker.release();
  }
  return eventually(async () => {
    const r = await db.pool.query<{ n: number }>('select count(*)::int as n from uplinks where dev_eui = $1', [BLOCKED]);
    return r.rows[0]!.n === expected ? r.rows[0]!.n : undefined;
  });
}

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
    const stored = await withBlockedDevice(db, async () => {
      // The first batch commits at once; every later one waits on the locked row.
      await publisher.publishAsync(`${prefix}/a1/device/${FAST}/event/up`, uplink(FAST, 'bp-fast', 1), { qos: 1 });
      for (let i = 0; i < 9; i++) {
        await publisher.publishAsync(`${prefix}/a1/device/${BLOCKED}/event/up`, uplink(BLOCKED, `bp-${i}`, 10 + i), { qos: 1 });
      }
      await eventually(async () => ((await db.pool.query("select 1 from uplinks where id = 'bp-fast'")).rowCount === 1 ? true : undefined));
      await eventually(async () => ((await sessionsWaitingOnLocks(db)) >= 1 ? true : undefined));
      // Give any further batches time to reach the database, then count them.
      const counts: number[] = [];
      const held: number[] = [];
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 100));
        counts.push(await sessionsWaitingOnLocks(db));
        held.push(t.service.ingest.inFlight());
      }
      expect(Math.max(...counts)).toBeLessThanOrEqual(2);
      expect(Math.max(...counts)).toBeGreaterThanOrEqual(1);
      // Two batches in the database and one waiting for a slot: ingest reads no further,
      // the other six stay with the broker rather than in memory.
      expect(Math.max(...held)).toBe(3);
    }, 9);
    expect(stored).toBe(9);
  });
});

/**
 * Frames from concentrators are urgent (a device listens for the answer): a batch of them
 * that cannot get a database slot stays open instead of closing and waiting, so ingest
 * goes on reading and the frames behind it gather in their dedup windows meanwhile.
 */
describe('ingest of concentrator frames with a blocked database', () => {
  const DEV_ADDR = '26011b01';
  const nwkSKey = Buffer.alloc(16, 1);
  const appSKey = Buffer.alloc(16, 2);
  const t = useTestService({ INGEST_BATCH_MAX_AGE_MS: '5', INGEST_DEDUP_WINDOW_MS: '20' }, async (db) => {
    const vault = createKeyVault(TEST_MASTER_KEY);
    await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    await upsertDevice(db.pool, { devEui: BLOCKED, modelId: 'lpp', devAddr: DEV_ADDR, nwkSKeySealed: vault.sealKey(nwkSKey, keyAad(BLOCKED, 'nwkSKey')), appSKeySealed: vault.sealKey(appSKey, keyAad(BLOCKED, 'appSKey')) });
  });

  const frame = (fCnt: number) => {
    const phy = buildUplinkFrame({ devAddr: DEV_ADDR, fCnt32: fCnt, fPort: 1, payload: Buffer.from('03670110', 'hex'), nwkSKey, appSKey });
    return gatewayUplinkMessage({ prefix: t.config.ingest.concentratorPrefixes[0]!, gatewayId: '0016c001f1500005', phyPayload: phy, frequencyHz: 868_100_000, spreadingFactor: 7, rssiDbm: -80, snrDb: 7, context: Buffer.from([0, 0, 3, fCnt]) });
  };

  it('goes on reading frames while both database slots are taken', async () => {
    const { db, publisher } = t;
    const publish = async (fCnt: number) => { const m = frame(fCnt); await publisher.publishAsync(m.topic, m.payload, { qos: 1 }); };
    const stored = await withBlockedDevice(db, async () => {
      // Two batches, each blocked on the locked row: both slots taken.
      await publish(0);
      await eventually(async () => ((await sessionsWaitingOnLocks(db)) >= 1 ? true : undefined));
      await publish(1);
      await eventually(async () => ((await sessionsWaitingOnLocks(db)) >= 2 ? true : undefined));
      // A third frame: its window closes and its batch ages (20 + 5 ms) with no slot free.
      await publish(2);
      await eventually(async () => (t.service.ingest.inFlight() === 3 ? true : undefined));
      await new Promise((r) => setTimeout(r, 200));
      for (let fCnt = 3; fCnt < 9; fCnt++) await publish(fCnt);
      // Read, not left with the broker: they wait in their windows and in the open batch.
      await eventually(async () => (t.service.ingest.inFlight() === 9 ? true : undefined), { timeoutMs: 5_000 });
      expect(await sessionsWaitingOnLocks(db)).toBeLessThanOrEqual(2);
    }, 9);
    expect(stored).toBe(9);
  });
});
