/**
 * Two batches of raw frames in the database at once: the later one must not make the
 * earlier one's frames replays. Seen in `bench frames` on a loaded machine: a batch with
 * FCnt 0 of 16 devices waited for a database connection while the next batch (their
 * FCnt 3) was resolved, written and committed; FCnt 0 then met a stored counter of 3 and
 * became a dead letter `replay`: 16 of 200 uplinks lost. Here the earlier batch's first
 * query is held back (the database is real; only that query's start is delayed), as a
 * connection slow to come would.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawFrameResolver, type RawFrameItem } from '../ingest/raw-frames.js';
import { buildUplinkFrame } from '../ingest/lorawan/index.js';
import type { FrameGroup } from '../ingest/lorawan/types.js';
import { writeBatch, type WriteBatch } from '../storage/index.js';
import { buildFleet } from '../simulators/fleet.js';
import { registerFleet } from '../simulators/register.js';
import { createTestDatabase, TEST_MASTER_KEY, type TestDatabase } from './helpers.js';

describe('raw frames of one device in two batches at once', () => {
  let db: TestDatabase;
  const device = buildFleet({ devices: 1, seed: 'frame-order', kinds: ['parking'] })[0]!;

  beforeAll(async () => {
    db = await createTestDatabase();
    await registerFleet(db.pool, [device], TEST_MASTER_KEY);
  });
  afterAll(async () => {
    await db?.drop();
  });

  function item(fCnt32: number): RawFrameItem {
    const phyPayload = buildUplinkFrame({ devAddr: device.devAddr, fCnt32, fPort: device.fPort, payload: Buffer.from([1, 0, 0, 0, 0]), nwkSKey: device.nwkSKey, appSKey: device.appSKey });
    const group: FrameGroup = {
      phyPayload,
      key: phyPayload.toString('base64'),
      firstSeenAt: new Date(Date.UTC(2026, 11, 5, 8, 0, fCnt32)),
      receptions: [{
        gatewayId: '0016c001f1500001', rssiDbm: -100, snrDb: 5, receivedAt: new Date(Date.UTC(2026, 11, 5, 8, 0, fCnt32)), frequencyHz: 451_350_000,
        spreadingFactor: 10, bandwidthHz: 125_000, codeRate: 'CR_4_5', context: Buffer.alloc(4), best: true,
      }],
    };
    return { kind: 'frame_group', group, band: '450MHz', messages: [] };
  }

  /** What the pipeline writes of a resolved batch of frames (uplinks, identities, counters). */
  function rows(resolved: Awaited<ReturnType<RawFrameResolver['resolve']>>): WriteBatch {
    return {
      uplinks: resolved.uplinks.map((u) => ({ id: u.id, receivedAt: u.receivedAt, devEui: u.devEui, fCnt: u.fCnt, fPort: u.fPort, payload: u.payload, decoded: null, decodeError: null, source: u.source, radio: u.radio })),
      readings: [], healthReadings: [], deadLetters: [], frameIds: resolved.frameIds, counters: resolved.counters, receptionMerges: resolved.merges,
    };
  }

  it('accepts the earlier batch\'s frame although the later batch committed a higher counter first', async () => {
    // The earlier batch's first query waits until released, as on a connection slow to come.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held = false;
    const slowFirstQuery = new Proxy(db.pool, {
      get(target, property) {
        if (property === 'query') {
          return async (...args: Parameters<pg.Pool['query']>) => {
            if (!held) {
              held = true;
              await gate;
            }
            return (target.query as (...a: unknown[]) => unknown)(...args);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const resolver = new RawFrameResolver(slowFirstQuery, TEST_MASTER_KEY);
    const earlier = resolver.resolve([item(0)]);
    const later = resolver.resolve([item(3)]);
    // Without batch order the later batch is resolved now, and committed before the earlier one reads.
    const laterFirst = await Promise.race([later.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 500))]);
    if (laterFirst) await writeBatch(db.pool, rows(await later));
    release();
    const first = await earlier;
    if (!laterFirst) await writeBatch(db.pool, rows(await later));
    expect((await later).rejections.size).toBe(0);
    expect([...first.rejections.values()]).toEqual([]);
    expect(first.uplinks.map((u) => u.fCnt)).toEqual([0]);
    await writeBatch(db.pool, rows(first));
    const stored = await db.pool.query<{ f_cnt: number }>('select f_cnt from uplinks order by f_cnt');
    expect(stored.rows.map((r) => Number(r.f_cnt))).toEqual([0, 3]);
    const counter = await db.pool.query<{ f_cnt_up: string }>('select f_cnt_up from devices where dev_eui = $1', [device.devEui]);
    expect(Number(counter.rows[0]!.f_cnt_up)).toBe(3);
  });
});
