/**
 * Identity that does not depend on arrival, and no silent loss (issue 26, items 3 and 4),
 * through a real broker and database:
 * - an uplink whose source gives no time (ChirpStack without `time`, The Things Stack
 *   without `received_at`) is stored once however often it is delivered, also when the
 *   link to the broker is cut while thousands of them flow;
 * - two uplinks of one device with the same time store both uplinks, and every reading
 *   of the second that cannot be stored under its key is a dead letter and counted;
 * - a concentrator's copy that arrives while its frame's uplink is being written is
 *   merged once that commits; a copy that adds nothing is counted.
 */
import net from 'node:net';
import mqtt from 'mqtt';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ingestDropped } from '../ingest/metrics.js';
import { startService } from '../service.js';
import { inTransaction, mergeReceptions, upsertDevice, upsertDeviceModel, writeBatch } from '../storage/index.js';
import { freePort } from './global-setup.js';
import { registerFleet } from '../simulators/register.js';
import { CityTraffic } from '../simulators/traffic.js';
import { createTestDatabase, eventually, TEST_MASTER_KEY, testConfig, testLog, uniqueName, useTestService, type TestDatabase } from './helpers.js';
import { mosquittoAvailable, startMosquitto } from './mosquitto.js';

const DEV_EUI = '00000000000000c1';
const TTS_DEVICE = 'lamp-c1';
/** Cayenne LPP: channel 3 temperature 27.2 °C. */
const LPP = Buffer.from('03670110', 'hex').toString('base64');

async function prepare(db: TestDatabase): Promise<void> {
  await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
  await upsertDevice(db.pool, { devEui: DEV_EUI, modelId: 'lpp' });
}

function chirpstackEvent(deduplicationId: string, fCnt: number, time?: string, devEui = DEV_EUI): string {
  return JSON.stringify({
    deduplicationId, ...(time ? { time } : {}), deviceInfo: { devEui }, fCnt, fPort: 1, data: LPP,
    rxInfo: [{ gatewayId: '0016c001f153a14c', rssi: -70, snr: 7 }],
  });
}

function ttsEvent(fCnt: number, correlationId: string, receivedAt?: string): string {
  return JSON.stringify({
    end_device_ids: { device_id: TTS_DEVICE, dev_eui: DEV_EUI.toUpperCase() },
    correlation_ids: [`as:up:${correlationId}`],
    uplink_message: {
      f_port: 1, f_cnt: fCnt, frm_payload: LPP, ...(receivedAt ? { received_at: receivedAt } : {}),
      rx_metadata: [{ gateway_ids: { gateway_id: 'gw-1', eui: '0016C001F153A14D' }, rssi: -80, snr: 5 }],
    },
  });
}

async function dropped(reason: string): Promise<number> {
  return (await ingestDropped.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('uplinks without a source time', () => {
  const running = useTestService({}, prepare);
  const chirpstackTopic = () => `${running.config.ingest.chirpstackPrefix}/app/device/${DEV_EUI}/event/up`;
  const ttsTopic = () => `${running.config.ingest.ttsPrefix}/air/devices/${TTS_DEVICE}/up`;
  const count = async (like: string) =>
    (await running.db.pool.query<{ uplinks: number; readings: number }>(
      `select (select count(*)::int from uplinks where id like $1) as uplinks,
              (select count(*)::int from readings where uplink_id like $1) as readings`, [like])).rows[0]!;

  it('stores a ChirpStack uplink without time once, delivered twice apart and twice at once', async () => {
    await running.publisher.publishAsync(chirpstackTopic(), chirpstackEvent('timeless-a', 1), { qos: 1 });
    await eventually(async () => ((await count('timeless-a')).uplinks === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 30)); // another clock time for the second delivery
    await running.publisher.publishAsync(chirpstackTopic(), chirpstackEvent('timeless-a', 1), { qos: 1 });
    // Twice in one batch as well.
    await Promise.all([1, 2].map(() => running.publisher.publishAsync(chirpstackTopic(), chirpstackEvent('timeless-b', 2), { qos: 1 })));
    // A marker published last: once it is stored, the messages before it are handled.
    await running.publisher.publishAsync(chirpstackTopic(), chirpstackEvent('timeless-marker', 3, new Date().toISOString()), { qos: 1 });
    await eventually(async () => ((await count('timeless-marker')).uplinks === 1 ? true : undefined));
    // One uplink each, its temperature and the signal readings (rssi, snr) once.
    expect(await count('timeless-a')).toEqual({ uplinks: 1, readings: 3 });
    expect(await count('timeless-b')).toEqual({ uplinks: 1, readings: 3 });
  });

  it('keeps every reading of a burst of timeless uplinks of one device (our clock gives them distinct times)', async () => {
    await Promise.all(Array.from({ length: 30 }, (_, i) =>
      running.publisher.publishAsync(chirpstackTopic(), chirpstackEvent(`burst-${i}`, 100 + i), { qos: 1 })));
    const r = await eventually(async () => {
      const c = await count('burst-%');
      return c.uplinks === 30 ? c : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await count('burst-%')).toEqual({ uplinks: 30, readings: 90 });
    expect(r.uplinks).toBe(30);
    // The burst's own uplinks (an earlier test of this service may have left others).
    const letters = await running.db.pool.query(`select 1 from dead_letters where reason = 'reading_conflict' and convert_from(payload, 'UTF8') like '%burst-%'`);
    expect(letters.rowCount).toBe(0);
  });

  it('stores a The Things Stack uplink without received_at once, and tells two such uplinks apart', async () => {
    await running.publisher.publishAsync(ttsTopic(), ttsEvent(7, '01TIMELESS7'), { qos: 1 });
    await eventually(async () => ((await count(`tts:${DEV_EUI}:7:%`)).uplinks === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 30));
    await running.publisher.publishAsync(ttsTopic(), ttsEvent(7, '01TIMELESS7'), { qos: 1 });
    // The same counter and payload after a counter reset: another uplink (another correlation id).
    await running.publisher.publishAsync(ttsTopic(), ttsEvent(7, '01TIMELESS7B'), { qos: 1 });
    await running.publisher.publishAsync(ttsTopic(), ttsEvent(8, '01MARKER', new Date().toISOString()), { qos: 1 });
    await eventually(async () => ((await count(`tts:${DEV_EUI}:8:%`)).uplinks === 1 ? true : undefined));
    // Two distinct uplinks, each with its readings once.
    const ids = await running.db.pool.query<{ id: string; n: number }>(
      `select u.id, count(r.*)::int as n from uplinks u left join readings r on r.uplink_id = u.id where u.id like $1 group by u.id`, [`tts:${DEV_EUI}:7:%`]);
    expect(ids.rows.map((x) => x.n)).toEqual([3, 3]);
  });
});

describe('two uplinks of one device with the same time', () => {
  const running = useTestService({}, prepare);

  it('keeps every reading of both: stored, or dead-lettered and counted', async () => {
    const time = '2026-11-24T09:00:00.500Z';
    const before = await dropped('reading_conflict');
    const topic = `${running.config.ingest.chirpstackPrefix}/app/device/${DEV_EUI}/event/up`;
    await running.publisher.publishAsync(topic, chirpstackEvent('same-time-1', 10, time), { qos: 1 });
    await running.publisher.publishAsync(topic, chirpstackEvent('same-time-2', 11, time), { qos: 1 });
    // The Things Stack reporting one more uplink of the device at that millisecond.
    await running.publisher.publishAsync(`${running.config.ingest.ttsPrefix}/air/devices/${TTS_DEVICE}/up`, ttsEvent(12, '01SAME', time), { qos: 1 });
    const uplinks = await eventually(async () => {
      const { rows } = await running.db.pool.query<{ id: string }>(`select id from uplinks where received_at = $1 order by id`, [time]);
      return rows.length === 3 ? rows.map((r) => r.id) : undefined;
    });
    const letters = await eventually(async () => {
      const { rows } = await running.db.pool.query<{ detail: string; dev_eui: string; payload: Buffer }>(
        `select detail, dev_eui, payload from dead_letters where reason = 'reading_conflict' order by id`);
      return rows.length === 2 ? rows : undefined;
    });
    const { rows: readings } = await running.db.pool.query<{ uplink_id: string; metric: string }>(
      `select uplink_id, metric from readings where dev_eui = $1 and time = $2`, [DEV_EUI, time]);
    // Each key (temperature/3, rssi, snr) is stored once, from one of the three uplinks ...
    expect(readings.map((r) => r.metric).sort()).toEqual(['rssi', 'snr', 'temperature']);
    // ... and each of the other two uplinks is a dead letter naming its three keys, with its message.
    const stored = new Set(readings.map((r) => r.uplink_id));
    expect(stored.size).toBe(1);
    const others = uplinks.filter((id) => !stored.has(id));
    expect(others).toHaveLength(2);
    for (const id of others) {
      const letter = letters.find((l) => l.detail.startsWith(`uplink ${id}:`));
      expect(letter?.detail).toMatch(/3 reading\(s\) not stored/);
      expect(letter?.dev_eui).toBe(DEV_EUI);
      expect(letter?.payload.length).toBeGreaterThan(0);
    }
    expect((await dropped('reading_conflict')) - before).toBe(2);
  });
});

/** A TCP proxy between ingest and the broker whose connections can be cut. */
async function linkProxy(brokerPort: number): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(brokerPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('timeless uplinks while the link to the broker is cut', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('stores each of them once', async () => {
    const messages = 4_000;
    const DEVICES = 200;
    let brokerUrl = inject('mqttUrl');
    let protocol: 4 | 5 = inject('mqttProtocolVersion');
    if (mosquittoAvailable()) {
      // A private broker that queues every unacknowledged message while the link is down.
      const broker = await startMosquitto();
      cleanup.push(() => broker.stop());
      brokerUrl = broker.url;
      protocol = 5;
    }
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    await prepare(db);
    // Many devices, as in a city: one device's uplinks are not stored in the same millisecond.
    const devEui = (i: number) => `00000000000d${(i % DEVICES).toString(16).padStart(4, '0')}`;
    for (let d = 0; d < DEVICES; d++) await upsertDevice(db.pool, { devEui: devEui(d), modelId: 'lpp' });
    const proxy = await linkProxy(Number(new URL(brokerUrl).port));
    cleanup.push(() => proxy.close());
    const config = testConfig(db.url, { MQTT_URL: `mqtt://127.0.0.1:${proxy.port}`, MQTT_PROTOCOL_VERSION: String(protocol), INGEST_MAX_IN_FLIGHT: '2000' });
    const service = await startService(config, testLog);
    cleanup.push(() => service.stop());
    const publisher = await mqtt.connectAsync(brokerUrl, { clientId: uniqueName('pub-'), protocolVersion: protocol });
    cleanup.push(() => publisher.endAsync(true));
    const stored = async () => (await db.pool.query<{ n: number; d: number; r: number }>(
      `select count(*)::int as n, count(distinct id)::int as d, (select count(*)::int from readings where metric = 'temperature') as r from uplinks`)).rows[0]!;

    let cuts = 0;
    for (let i = 0; i < messages; i++) {
      publisher.publish(`${config.ingest.chirpstackPrefix}/app/device/${devEui(i)}/event/up`, chirpstackEvent(`cut-${i}`, i, undefined, devEui(i)), { qos: 1 });
      if (i % 200 === 199) {
        await new Promise((r) => setTimeout(r, 20));
        // Cut the link now and then while batches commit and their PUBACKs are on the way.
        if (i % 800 === 799) {
          proxy.cut();
          cuts++;
        }
      }
    }
    expect(cuts).toBe(5);
    const final = await eventually(async () => {
      const c = await stored();
      return c.d >= messages ? c : undefined;
    }, { timeoutMs: 90_000, intervalMs: 250 });
    // Redeliveries still on their way would be ignored; give them a moment, then count again.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await stored()).toEqual({ n: messages, d: messages, r: messages });
    expect(final.d).toBe(messages);
  }, 150_000);
});

describe('late concentrator copies while their uplink is being written', () => {
  let prefix = '';
  let traffic: CityTraffic;
  const running = useTestService({}, async (db) => {
    prefix = `${uniqueName('t')}/450mhz`;
    traffic = new CityTraffic({ devices: 2, via: 'concentrator', seed: 'late', start: new Date('2026-11-24T06:00:00Z'), rate: 50, prefixes: { chirpstack: 'unused', concentrator: prefix, applicationId: 'x' } });
    await registerFleet(db.pool, traffic.fleet, TEST_MASTER_KEY);
  });

  it('merges them once the uplink is committed, and counts a copy from a gateway already there', async () => {
    // useTestService builds the configuration before `prepare` knows the prefix: restart on it.
    await running.service.stop();
    running.config = testConfig(running.db.url, { INGEST_CONCENTRATOR_PREFIXES: prefix, INGEST_CONCENTRATOR_BANDS: `${prefix}=450MHz` });
    running.service = await startService(running.config, testLog);
    let up = traffic.next();
    while (up.messages.filter((m) => m.topic.endsWith('/event/up')).length < 2) up = traffic.next();
    const copies = up.messages.filter((m) => m.topic.endsWith('/event/up'));
    const before = await dropped('reception_gateway_present');

    // Stall the uplink's batch: another transaction holds the device's row.
    const stall = await running.db.pool.connect();
    try {
      await stall.query('begin');
      await stall.query('select 1 from devices where dev_eui = $1 for update', [up.device.devEui]);
      await running.publisher.publishAsync(copies[0]!.topic, copies[0]!.payload, { qos: 1 });
      await eventually(async () => {
        const { rows } = await running.db.pool.query<{ n: number }>(
          `select count(*)::int as n from pg_locks l join pg_stat_activity a using (pid) where not l.granted and a.datname = current_database()`);
        return rows[0]!.n > 0 ? true : undefined;
      });
      // The other concentrators' copies, and the first concentrator's once more, while the batch waits.
      for (const m of [...copies.slice(1), copies[0]!]) await running.publisher.publishAsync(m.topic, m.payload, { qos: 1 });
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await stall.query('commit');
      stall.release();
    }
    const row = await eventually(async () => {
      const { rows } = await running.db.pool.query<{ n: number; c: number }>(
        `select count(*)::int as c, max(jsonb_array_length(radio->'receptions'))::int as n from uplinks where dev_eui = $1 and f_cnt = $2`, [up.device.devEui, up.fCnt]);
      return rows[0]!.n === copies.length ? rows[0] : undefined;
    });
    expect(row).toEqual({ c: 1, n: copies.length });
    await eventually(async () => ((await dropped('reception_gateway_present')) - before === 1 ? true : undefined));
  });
});

describe('mergeReceptions', () => {
  let db: TestDatabase;
  afterAll(async () => db?.drop());

  it('adds receptions of gateways the uplink lacks, and says how many were present already or had no uplink', async () => {
    db = await createTestDatabase();
    await prepare(db);
    const reception = (gatewayId: string) => ({ gatewayId, rssiDbm: -90, snrDb: 3, receivedAt: null, best: gatewayId === 'g1' });
    await writeBatch(db.pool, {
      uplinks: [{ id: 'merge-1', receivedAt: new Date('2026-12-05T08:00:00Z'), devEui: DEV_EUI, fCnt: 1, fPort: 1, payload: Buffer.alloc(0), decoded: null, decodeError: null, source: 'concentrator',
        radio: { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [reception('g1')] } }],
      readings: [], healthReadings: [], deadLetters: [],
    });
    const outcome = await inTransaction(db.pool, (client) => mergeReceptions(client, [
      { uplinkId: 'merge-1', receptions: [reception('g1'), reception('g2')] },
      { uplinkId: 'merge-1', receptions: [reception('g2')] },
      { uplinkId: 'never-stored', receptions: [reception('g3')] },
    ]));
    expect(outcome).toEqual({ added: 1, gatewayPresent: 2, uplinkMissing: 1 });
    const { rows } = await db.pool.query<{ g: string[] }>(`select array(select r->>'gatewayId' from jsonb_array_elements(radio->'receptions') r) as g from uplinks where id = 'merge-1'`);
    expect(rows[0]!.g).toEqual(['g1', 'g2']);
  });
});
