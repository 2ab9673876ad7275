/**
 * Class A downlinks on the concentrator path through the real broker and database: the
 * ACK of a confirmed uplink, MAC answers (LinkCheckAns, DeviceTimeAns, DevStatusReq on
 * its schedule), a queued application downlink in the next receive windows with its
 * FCntDown stored, the gateway bridge's event/ack (RX1 refused, RX2 taken; both refused),
 * a lost downlink (no ack) recorded and its application downlink sent again, a confirmed
 * one acknowledged by the device, and FPort 0 never reaching the application decoder.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildUplinkFrame, encodeGatewayTxAck, openDownlinkFrame, parseDownlinkMac, type GatewayDownlink } from '../ingest/lorawan/index.js';
import { gatewayUplinkMessage } from '../simulators/messages.js';
import { insertQueueItems } from '../storage/index.js';
import { eventually, startConcentratorHarness, type ConcentratorHarness, type TestDatabase } from './helpers.js';

const DEV_EUI = '70b3d57ed000abcd';
const DEV_ADDR = '26011f00';
const nwkSKey = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const appSKey = Buffer.from('0f0e0d0c0b0a09080706050403020100', 'hex');
const keys = { devAddr: DEV_ADDR, nwkSKey, appSKey };
const GW = '0016c001f1500002';

describe('class A downlinks on the concentrator path', () => {
  let harness: ConcentratorHarness;
  let db: TestDatabase;
  let publisher: MqttClient;
  let prefix: string;
  let downlinks: GatewayDownlink[] = [];
  let fCnt = 0;
  let lastFCntDown: number | null = null;

  beforeAll(async () => {
    harness = await startConcentratorHarness({
      devEui: DEV_EUI, devAddr: DEV_ADDR, nwkSKey, appSKey, gatewayId: GW,
      overrides: { LORAWAN_DOWNLINK_ACK_TIMEOUT_MS: '1500', LORAWAN_DOWNLINK_MAX_ATTEMPTS: '3' },
    });
    ({ db, publisher, prefix, downlinks } = harness);
  });

  afterAll(async () => {
    await harness?.stop();
  });

  beforeEach(() => {
    downlinks.length = 0;
  });

  /** The device sends its next uplink; resolves when it is stored. */
  async function uplink(fields: { confirmed?: boolean; ack?: boolean; adr?: boolean; fPort?: number | null; payload?: Buffer; fOpts?: Buffer } = {}): Promise<number> {
    const n = fCnt++;
    const phy = buildUplinkFrame({ devAddr: DEV_ADDR, fCnt32: n, fPort: fields.fPort === undefined ? 1 : fields.fPort, payload: fields.payload ?? Buffer.from('0367011a', 'hex'), confirmed: fields.confirmed, ack: fields.ack, adr: fields.adr, fOpts: fields.fOpts, nwkSKey, appSKey });
    const m = gatewayUplinkMessage({ prefix, gatewayId: GW, phyPayload: phy, frequencyHz: 868_500_000, spreadingFactor: 8, rssiDbm: -95, snrDb: 3, context: Buffer.from([0, 0, 1, n]) });
    await publisher.publishAsync(m.topic, m.payload, { qos: 1 });
    await eventually(async () => ((await db.pool.query('select 1 from uplinks where dev_eui = $1 and f_cnt = $2', [DEV_EUI, n])).rowCount === 1 ? true : undefined));
    return n;
  }

  /** The next downlink the concentrator gets, opened as the device opens it. */
  async function nextDownlink() {
    const frame = await eventually(async () => downlinks.shift());
    const opened = openDownlinkFrame(frame.items[0]!.phyPayload, keys, lastFCntDown);
    if (!opened) throw new Error('the device cannot open the downlink');
    lastFCntDown = opened.fCnt32;
    return { frame, opened };
  }

  async function ack(frame: GatewayDownlink, statuses: string[]): Promise<void> {
    await publisher.publishAsync(`${prefix}/gateway/${GW}/event/ack`, encodeGatewayTxAck({ gatewayId: GW, downlinkId: frame.downlinkId, statuses }, 'protobuf'), { qos: 1 });
  }

  async function downlinkRow(id: number) {
    return (await db.pool.query('select kind, f_cnt_down, tx_status, tx_window, ack, mac_commands from downlinks where id = $1', [id])).rows[0];
  }

  it('acknowledges a confirmed uplink in RX1 timed on the concentrator\'s context, and records RX2 when the bridge refused RX1', async () => {
    const n = await uplink({ confirmed: true });
    const { frame, opened } = await nextDownlink();
    expect(opened).toMatchObject({ ack: true, fCnt32: 0, fPort: null });
    expect(frame.context).toEqual(Buffer.from([0, 0, 1, n]));
    expect(frame.items.map((i) => [i.tx.frequencyHz, i.tx.spreadingFactor, i.tx.delayS])).toEqual([[868_500_000, 8, 1], [869_525_000, 12, 2]]);
    await ack(frame, ['TOO_LATE', 'OK']);
    expect(await eventually(async () => { const r = await downlinkRow(frame.downlinkId); return r?.tx_status ? r : undefined; }))
      .toEqual({ kind: 'data', f_cnt_down: 0, tx_status: 'OK', tx_window: 'rx2', ack: true, mac_commands: [] });
    expect((await db.pool.query('select f_cnt_down from devices where dev_eui = $1', [DEV_EUI])).rows[0].f_cnt_down).toBe(0);
  });

  it('answers LinkCheckReq and DeviceTimeReq on FPort 0, which never reaches the decoder', async () => {
    const n = await uplink({ fPort: 0, payload: Buffer.from([0x02, 0x0d]) });
    const { opened } = await nextDownlink();
    expect(parseDownlinkMac(opened.fOpts).map((c) => c.name)).toEqual(['LinkCheckAns', 'DeviceTimeAns']);
    expect(parseDownlinkMac(opened.fOpts)[0]).toEqual({ name: 'LinkCheckAns', marginDb: 13, gatewayCount: 1 });
    const row = (await db.pool.query('select decoded, decode_error from uplinks where dev_eui = $1 and f_cnt = $2', [DEV_EUI, n])).rows[0];
    expect(row).toEqual({ decoded: null, decode_error: null });
    expect((await db.pool.query("select count(*)::int as n from dead_letters where reason = 'decode_failed'")).rows[0].n).toBe(0);
  });

  it('asks for the device status when it is due and stores the answer as readings', async () => {
    await db.pool.query("update devices set dev_status_requested_at = now() - interval '2 days' where dev_eui = $1", [DEV_EUI]);
    await uplink();
    const { opened } = await nextDownlink();
    expect(parseDownlinkMac(opened.fOpts)).toEqual([{ name: 'DevStatusReq' }]);
    expect((await db.pool.query("select dev_status_requested_at > now() - interval '1 minute' as fresh from devices where dev_eui = $1", [DEV_EUI])).rows[0].fresh).toBe(true);
    // DevStatusAns: battery 127 of 254, margin 9 dB.
    await uplink({ fOpts: Buffer.from([0x06, 127, 9]) });
    const readings = await eventually(async () => {
      const r = await db.pool.query<{ metric: string; value: number }>("select metric, value from readings where dev_eui = $1 and metric in ('battery_level', 'link_margin') order by metric", [DEV_EUI]);
      return r.rowCount === 2 ? r.rows : undefined;
    });
    expect(readings).toEqual([{ metric: 'battery_level', value: 50 }, { metric: 'link_margin', value: 9 }]);
  });

  it('sends a queued downlink after the next uplink, resends it after a lost transmission, and settles it with the bridge\'s ack', async () => {
    const [item] = await insertQueueItems(db.pool, [{ devEui: DEV_EUI, fPort: 12, payload: Buffer.from([0x01, 0x28]), confirmed: false, object: null, route: 'concentrator', routeTopic: null, requestedBy: 'test' }]);
    await uplink();
    const first = await nextDownlink();
    expect(first.opened).toMatchObject({ fPort: 12, payload: Buffer.from([0x01, 0x28]) });
    // No event/ack: after the timeout the transmission is lost and the item queued again.
    const lost = await eventually(async () => { const r = await downlinkRow(first.frame.downlinkId); return r?.tx_status ? r : undefined; }, { timeoutMs: 10_000 });
    expect(lost.tx_status).toBe('NO_ACK');
    expect((await db.pool.query('select state, attempts from downlink_queue where id = $1', [item!.id])).rows[0]).toEqual({ state: 'queued', attempts: 1 });
    await uplink();
    const second = await nextDownlink();
    expect(second.opened).toMatchObject({ fPort: 12, fCnt32: first.opened.fCnt32 + 1 });
    await ack(second.frame, ['OK']);
    const settled = await eventually(async () => { const r = (await db.pool.query('select state, attempts, tx_status, f_cnt_down from downlink_queue where id = $1', [item!.id])).rows[0]; return r.tx_status ? r : undefined; });
    expect(settled).toEqual({ state: 'sent', attempts: 2, tx_status: 'OK', f_cnt_down: second.opened.fCnt32 });
  });

  it('keeps a confirmed downlink until the device acknowledges it', async () => {
    const [item] = await insertQueueItems(db.pool, [{ devEui: DEV_EUI, fPort: 12, payload: Buffer.from([0x01, 0x00]), confirmed: true, object: null, route: 'concentrator', routeTopic: null, requestedBy: 'test' }]);
    await uplink();
    const { frame, opened } = await nextDownlink();
    expect(opened.confirmed).toBe(true);
    await ack(frame, ['OK', 'IGNORED']);
    await eventually(async () => ((await db.pool.query('select tx_status from downlink_queue where id = $1', [item!.id])).rows[0].tx_status === 'OK' ? true : undefined));
    await uplink({ ack: true });
    const state = await eventually(async () => { const r = (await db.pool.query('select state, acknowledged_at from downlink_queue where id = $1', [item!.id])).rows[0]; return r.state !== 'sent' ? r : undefined; });
    expect(state.state).toBe('acknowledged');
  });

  it('asks a device that sets ADR for a faster data rate once 20 uplinks show the margin', async () => {
    // SF8 (DR4), SNR 3 dB: margin 3 − (−10) − 10 = 3 dB, one step: DR5. The history counts
    // every uplink of the device (the earlier tests' too): a request comes by the 20th.
    for (let i = 0; i < 20 && downlinks.length === 0; i++) {
      await uplink({ adr: true });
      await new Promise((r) => setTimeout(r, 100));
    }
    const { opened } = await nextDownlink();
    expect(fCnt).toBeGreaterThanOrEqual(20);
    expect(parseDownlinkMac(opened.fOpts)).toEqual([{ name: 'LinkADRReq', dataRate: 5, txPowerIndex: 0, channelMask: 0, channelMaskControl: 6, nbTrans: 1 }]);
    // The device accepts (LinkADRAns: power, data rate and channel mask ACK): no second request follows.
    await uplink({ adr: true, fOpts: Buffer.from([0x03, 0b111]) });
    for (let i = 0; i < 3; i++) await uplink({ adr: true });
    await new Promise((r) => setTimeout(r, 300));
    expect(downlinks).toHaveLength(0);
  });

  it('queues a downlink again when the bridge could send it in neither window', async () => {
    const [item] = await insertQueueItems(db.pool, [{ devEui: DEV_EUI, fPort: 12, payload: Buffer.from([0x00]), confirmed: false, object: null, route: 'concentrator', routeTopic: null, requestedBy: 'test' }]);
    await uplink();
    const { frame } = await nextDownlink();
    await ack(frame, ['COLLISION_PACKET', 'DUTY_CYCLE_OVERFLOW']);
    const back = await eventually(async () => { const r = (await db.pool.query('select state, tx_status from downlink_queue where id = $1', [item!.id])).rows[0]; return r.tx_status ? r : undefined; });
    expect(back).toEqual({ state: 'queued', tx_status: 'COLLISION_PACKET' });
    expect((await downlinkRow(frame.downlinkId)).tx_status).toBe('COLLISION_PACKET');
  });
});
