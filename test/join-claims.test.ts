/**
 * The batch writer records an accepted join and its join-accept together (one statement,
 * storage/sql/joins.ts): the accept's id is the one the writer hands back for publishing,
 * and a second batch with the same join (another worker, a redelivery) records neither a
 * join nor an accept, so the request is answered once. What the join resolver reads for a
 * batch (the devices, the DevAddrs taken) comes in one statement too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinKey, selectOtaaDevices, upsertDevice, upsertDeviceModel, writeBatch, type JoinRow, type PlannedDownlink, type WriteBatch } from '../storage/index.js';
import { createTestDatabase, type TestDatabase } from './helpers.js';

const DEV_EUI = '70b3d57ed00c1a1e';
const GW = '0016c001f1500003';

function joinBatch(join: JoinRow, withAccept: boolean): WriteBatch {
  const accept: PlannedDownlink = {
    record: { devEui: join.devEui, kind: 'join_accept', gatewayId: GW, fCntDown: null, fPort: null, queueId: null, confirmed: false, ack: false, macCommands: [] },
    after: { joinKey: joinKey(join) },
    counter: null,
    devStatusReq: false,
  };
  return { uplinks: [], readings: [], healthReadings: [], deadLetters: [], joins: [join], downlinks: withAccept ? [accept] : [] };
}

describe('joins and their join-accepts in the batch writer', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    await upsertDevice(db.pool, { devEui: DEV_EUI, modelId: 'lpp', joinEui: '70b3d57ed0000000', appKeySealed: 'sealed-app-key' });
  });

  afterAll(async () => {
    await db?.drop();
  });

  const join = (devNonce: number, joinNonce: number): JoinRow => ({
    devEui: DEV_EUI, devNonce, joinNonce, requestMic: `mic${devNonce}`, devAddr: `2600000${devNonce}`, receivedAt: new Date(), nwkSKeySealed: `nwk${devNonce}`, appSKeySealed: `app${devNonce}`,
  });

  const accepts = async () => (await db.pool.query<{ id: number; gateway_id: string; dev_eui: string }>("select id, gateway_id, dev_eui from downlinks where kind = 'join_accept' order by id")).rows;

  it('records a join and its accept once: the same join in a second batch records neither', async () => {
    const first = await writeBatch(db.pool, joinBatch(join(1, 0), true));
    expect([...(first.joins ?? [])]).toEqual([`${DEV_EUI}:1`]);
    expect(first.downlinks).toHaveLength(1);
    const recorded = await accepts();
    expect(recorded).toEqual([{ id: first.downlinks![0]!.id, gateway_id: GW, dev_eui: DEV_EUI }]);
    expect((await db.pool.query('select pending_dev_addr from devices where dev_eui = $1', [DEV_EUI])).rows[0].pending_dev_addr).toBe('26000001');

    const again = await writeBatch(db.pool, joinBatch(join(1, 0), true));
    expect(again.joins?.size ?? 0).toBe(0);
    expect(again.downlinks ?? []).toEqual([]);
    expect(await accepts()).toEqual(recorded);
  });

  it('records no accept for a join planned without one', async () => {
    const before = await accepts();
    const result = await writeBatch(db.pool, joinBatch(join(2, 1), false));
    expect([...(result.joins ?? [])]).toEqual([`${DEV_EUI}:2`]);
    expect(result.downlinks ?? []).toEqual([]);
    expect(await accepts()).toEqual(before);
  });

  it('reads the devices of join-requests with the DevAddr candidates taken, current or pending', async () => {
    await upsertDevice(db.pool, { devEui: '70b3d57ed00c1a1f', modelId: 'lpp', devAddr: '26abcdef', nwkSKeySealed: 'n', appSKeySealed: 'a' });
    // DEV_EUI's pending session (from its join with DevNonce 2 above) has DevAddr 26000002.
    const context = await selectOtaaDevices(db.pool, [{ devEui: DEV_EUI, devNonce: 1 }, { devEui: '70b3d57ed0ffffff', devNonce: 1 }], ['26abcdef', '26000002', '26fedcba']);
    expect(context.devices).toEqual([expect.objectContaining({ devEui: DEV_EUI, devNonce: 1, usedMic: 'mic1', lastDevNonce: 2, lastJoinNonce: 1 })]);
    expect(context.devices[0]).not.toHaveProperty('inUse');
    expect([...context.devAddrsInUse].sort()).toEqual(['26000002', '26abcdef']);
  });

  it('takes an id the wrapped downlink sequence gives out again: the settled downlink that had it is replaced', async () => {
    const settled = (id: number) => db.pool.query(
      `insert into downlinks (id, dev_eui, kind, gateway_id, f_cnt_down, f_port, confirmed, mac_commands, tx_status, tx_window, tx_acked_at)
       values ($1, $2, 'data', '0016c001f15000ff', 7, 12, true, '{DevStatusReq}', 'OK', 'rx1', now())
       on conflict (id) do update set kind = 'data', f_cnt_down = 7, tx_status = 'OK'`, [id, DEV_EUI]);
    const row = async (id: number) => (await db.pool.query('select dev_eui, kind, gateway_id, f_cnt_down, f_port, queue_id, confirmed, ack, mac_commands, tx_status, tx_window from downlinks where id = $1', [id])).rows;
    // The uint32 id space used up: the next id is 1 again (migration 0031, `cycle`).
    await settled(1);
    await db.pool.query('select setval($1::regclass, 4294967295)', ['downlink_id_seq']);
    const result = await writeBatch(db.pool, joinBatch(join(3, 2), true));
    expect(result.downlinks?.map((d) => d.id)).toEqual([1]);
    expect(await row(1)).toEqual([{ dev_eui: DEV_EUI, kind: 'join_accept', gateway_id: GW, f_cnt_down: null, f_port: null, queue_id: null, confirmed: false, ack: false, mac_commands: [], tx_status: null, tx_window: null }]);
  });
});
