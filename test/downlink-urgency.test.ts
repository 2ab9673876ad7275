/**
 * An unconfirmed uplink from a concentrator is as urgent as a confirmed one: whether the
 * device gets something in RX1 (here its queued downlink) is only known once the frame is
 * resolved, so its batch goes to the database as soon as a slot is free instead of waiting
 * out INGEST_BATCH_MAX_AGE_MS (set to a minute here, longer than the test waits).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUplinkFrame, openDownlinkFrame } from '../ingest/lorawan/index.js';
import { gatewayUplinkMessage } from '../simulators/messages.js';
import { insertQueueItems } from '../storage/index.js';
import { eventually, startConcentratorHarness, type ConcentratorHarness } from './helpers.js';

const DEV_EUI = '70b3d57ed000abce';
const DEV_ADDR = '26011f01';
const nwkSKey = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const appSKey = Buffer.from('0f0e0d0c0b0a09080706050403020100', 'hex');
const GW = '0016c001f1500004';

describe('downlinks after an unconfirmed uplink', () => {
  let h: ConcentratorHarness;

  beforeAll(async () => {
    h = await startConcentratorHarness({ devEui: DEV_EUI, devAddr: DEV_ADDR, nwkSKey, appSKey, gatewayId: GW, overrides: { INGEST_BATCH_MAX_AGE_MS: '60000' } });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('sends the queued downlink for RX1 without waiting for the batch age', async () => {
    await insertQueueItems(h.db.pool, [{ devEui: DEV_EUI, fPort: 12, payload: Buffer.from([0x01, 0x28]), confirmed: false, object: null, route: 'concentrator', routeTopic: null, requestedBy: 'test' }]);
    const phy = buildUplinkFrame({ devAddr: DEV_ADDR, fCnt32: 0, fPort: 1, payload: Buffer.from('0367011a', 'hex'), confirmed: false, nwkSKey, appSKey });
    const m = gatewayUplinkMessage({ prefix: h.prefix, gatewayId: GW, phyPayload: phy, frequencyHz: 868_500_000, spreadingFactor: 8, rssiDbm: -95, snrDb: 3, context: Buffer.from([0, 0, 2, 0]) });
    await h.publisher.publishAsync(m.topic, m.payload, { qos: 1 });
    // Well within the minute the batch would otherwise wait.
    const frame = await eventually(async () => h.downlinks.shift(), { timeoutMs: 10_000 });
    expect(openDownlinkFrame(frame.items[0]!.phyPayload, { devAddr: DEV_ADDR, nwkSKey, appSKey }, null)).toMatchObject({ fPort: 12, payload: Buffer.from([0x01, 0x28]) });
    expect(frame.items[0]!.tx.delayS).toBe(1);
  });
});
