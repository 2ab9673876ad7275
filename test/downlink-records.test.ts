/**
 * The batch writer records a data downlink in one statement (storage/sql/downlinks.ts,
 * recordDataDownlinks): FCntDown moved guarded by its old value, the downlink's row with
 * an id from the sequence, the queue item it carries marked sent and a DevStatusReq's
 * time. A second worker that planned a downlink from the same counter sends nothing. The
 * next queued downlink is read with the device's session (selectAbpCandidates).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertQueueItems, selectAbpCandidates, upsertDevice, upsertDeviceModel, writeBatch, type PlannedDownlink, type WriteBatch } from '../storage/index.js';
import { createTestDatabase, type TestDatabase } from './helpers.js';

const DEV_EUI = '70b3d57ed00d0a1a';
const GW = '0016c001f1500002';

/** A batch holding one uplink's frame identity and the data downlink planned after it. */
function downlinkBatch(uplinkId: string, counter: { previous: number | null; next: number }, queueId: number | null, devStatusReq: boolean): WriteBatch {
  const planned: PlannedDownlink = {
    record: { devEui: DEV_EUI, kind: 'data', gatewayId: GW, fCntDown: counter.next, fPort: queueId === null ? null : 12, queueId, confirmed: false, ack: true, macCommands: devStatusReq ? ['DevStatusReq'] : [] },
    after: { uplinkId },
    counter: { devEui: DEV_EUI, ...counter },
    devStatusReq,
  };
  return { uplinks: [], readings: [], healthReadings: [], deadLetters: [], frameIds: [{ id: uplinkId, devEui: DEV_EUI, receivedAt: new Date() }], downlinks: [planned] };
}

describe('data downlinks in the batch writer', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    await upsertDevice(db.pool, { devEui: DEV_EUI, modelId: 'lpp', devAddr: '26011f00', nwkSKeySealed: 'n', appSKeySealed: 'a' });
  });

  afterAll(async () => {
    await db?.drop();
  });

  const device = async () => (await db.pool.query<{ f_cnt_down: string | null; dev_status_requested_at: Date | null }>('select f_cnt_down, dev_status_requested_at from devices where dev_eui = $1', [DEV_EUI])).rows[0]!;
  const downlink = async (id: number) => (await db.pool.query('select dev_eui, kind, gateway_id, f_cnt_down, f_port, queue_id, ack, mac_commands, tx_status from downlinks where id = $1', [id])).rows;

  it('records the downlink, moves FCntDown, marks its queue item sent and the DevStatusReq time', async () => {
    const [item] = await insertQueueItems(db.pool, [{ devEui: DEV_EUI, fPort: 12, payload: Buffer.from([1, 1, 40]), confirmed: false, object: null, route: 'concentrator', routeTopic: null, requestedBy: 'test' }]);
    const result = await writeBatch(db.pool, downlinkBatch('u1', { previous: null, next: 0 }, item!.id, true));
    expect(result.downlinks).toHaveLength(1);
    const id = result.downlinks![0]!.id;
    expect(await downlink(id)).toEqual([{ dev_eui: DEV_EUI, kind: 'data', gateway_id: GW, f_cnt_down: 0, f_port: 12, queue_id: item!.id, ack: true, mac_commands: ['DevStatusReq'], tx_status: null }]);
    const after = await device();
    expect(Number(after.f_cnt_down)).toBe(0);
    expect(after.dev_status_requested_at).not.toBeNull();
    const queue = (await db.pool.query('select state, attempts, downlink_id, f_cnt_down from downlink_queue where id = $1', [item!.id])).rows[0];
    expect(queue).toEqual({ state: 'sent', attempts: 1, downlink_id: id, f_cnt_down: 0 });
  });

  it('sends nothing when another worker moved the counter from the same value first', async () => {
    const first = await writeBatch(db.pool, downlinkBatch('u2', { previous: 0, next: 1 }, null, false));
    expect(first.downlinks).toHaveLength(1);
    // The same counter planned by a second worker from its own copy of the state: FCntDown 1 must not go out twice.
    const second = await writeBatch(db.pool, downlinkBatch('u3', { previous: 0, next: 1 }, null, false));
    expect(second.downlinks ?? []).toEqual([]);
    expect(Number((await device()).f_cnt_down)).toBe(1);
    expect((await db.pool.query('select count(*)::int as n from downlinks where f_cnt_down = 1')).rows[0].n).toBe(1);
  });

  it('takes an id the wrapped downlink sequence gives out again: the settled downlink that had it is replaced', async () => {
    const { rows } = await db.pool.query<{ id: string }>('select last_value + 1 as id from downlink_id_seq');
    const id = Number(rows[0]!.id);
    await db.pool.query(
      `insert into downlinks (id, dev_eui, kind, gateway_id, f_cnt_down, f_port, confirmed, mac_commands, tx_status, tx_window, tx_acked_at)
       values ($1, $2, 'join_accept', '0016c001f15000ff', null, null, true, '{}', 'OK', 'rx1', now())`, [id, DEV_EUI]);
    const result = await writeBatch(db.pool, downlinkBatch('u4', { previous: 1, next: 2 }, null, false));
    expect(result.downlinks?.map((d) => d.id)).toEqual([id]);
    expect(await downlink(id)).toEqual([{ dev_eui: DEV_EUI, kind: 'data', gateway_id: GW, f_cnt_down: 2, f_port: null, queue_id: null, ack: true, mac_commands: [], tx_status: null }]);
  });
});

describe('the next queued downlink, read with the session', () => {
  let db: TestDatabase;
  const DEV = '70b3d57ed00d0a1b';

  beforeAll(async () => {
    db = await createTestDatabase();
    await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    await upsertDevice(db.pool, { devEui: DEV, modelId: 'lpp', devAddr: '26011f01', nwkSKeySealed: 'n', appSKeySealed: 'a' });
  });

  afterAll(async () => {
    await db?.drop();
  });

  const head = async () => {
    const [row] = await selectAbpCandidates(db.pool, ['26011f01']);
    return { open: row!.openDownlinks, id: row!.queueId === null ? null : Number(row!.queueId), fPort: row!.queueFPort, payload: row!.queuePayload, confirmed: row!.queueConfirmed };
  };
  const queue = (confirmed: boolean) => insertQueueItems(db.pool, [{ devEui: DEV, fPort: 12, payload: Buffer.from([1, 1, 40]), confirmed, object: null, route: 'concentrator', routeTopic: null, requestedBy: 'test' }]);

  it('is the oldest queued one while none is in flight, none while one is', async () => {
    expect(await head()).toEqual({ open: false, id: null, fPort: null, payload: null, confirmed: null });
    const [first] = await queue(true);
    const [second] = await queue(false);
    expect(await head()).toEqual({ open: true, id: first!.id, fPort: 12, payload: Buffer.from([1, 1, 40]), confirmed: true });
    // Published, no answer from the bridge yet: nothing more goes.
    await db.pool.query("update downlink_queue set state = 'sent' where id = $1", [first!.id]);
    expect((await head()).id).toBeNull();
    // Sent in RX1 but confirmed: it waits for the device's ACK.
    await db.pool.query("update downlink_queue set tx_status = 'OK' where id = $1", [first!.id]);
    expect((await head()).id).toBeNull();
    await db.pool.query("update downlink_queue set state = 'acknowledged' where id = $1", [first!.id]);
    expect((await head()).id).toBe(second!.id);
  });
});
