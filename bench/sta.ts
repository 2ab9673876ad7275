/**
 * SensorThings benchmark on `bench api`'s city (10,000 private parking bays, 1,000 public
 * lamps with a month of pm2_5 every 15 minutes: 2,880,000 readings), beside GET /health
 * measured in the same run:
 *   - latest observation of every Datastream of all Things, pages of 100 Things
 *     ($expand=Datastreams($expand=Observations($top=1;$orderby=phenomenonTime desc))),
 *     one request at a time: p99 per page                                 [latestPageP99Ms]
 *   - a Datastream's month of Observations, followed page by page ($top=1000) through
 *     its next links, 4 clients at once: Observations per second        [observationsPerSecond]
 *   - $count=true over a month of one Datastream: p99                      [countP99Ms]
 *   - Things within a district (st_within over Locations/location): p99   [geoFilterP99Ms]
 *   - ingest at a fixed 5,000 uplinks/s of 5,000 air-quality lamps (about 10 public
 *     readings each: 50,000 Observations/s, every one published to the broker, STA_MQTT_TOPICS
 *     datastreams) with a subscriber on 2,000 Datastreams (pm2_5 and temperature of 1,000
 *     lamps, a city dashboard): committed reading → subscriber p99, and ingest throughput and
 *     the service's CPU per uplink against the same traffic with SensorThings MQTT off
 *                                                                          [mqttP99Ms, ingestSlowdownPercent]
 * The service runs in a child process as npm start runs it; clients run in this one.
 *
 *   stadtfunk bench sta [--duration S] [--rate N] [--json FILE]
 */
import autocannon from 'autocannon';
import mqtt from 'mqtt';
import { buildFleet } from '../simulators/fleet.js';
import { registerFleet } from '../simulators/register.js';
import { catchUpSeries, createPool, datastreamId, migrate, parseObservationId } from '../storage/index.js';
import { seedApiCity } from './api.js';
import { benchEnvironment, benchLog, benchServiceEnv, percentile, printTable, writeJson, type BenchEnvironment } from './environment.js';
import { startPublisher } from './publish.js';
import { startServiceChild } from './service-child.js';

const FLEET_SEED = 'bench-sta';
const MONTH = { from: '2026-10-01T00:00:00Z', to: '2026-10-31T00:00:00Z' };
/** Lamps stand on a grid 51.200–51.239 N × 6.750–6.775 E (bench/api.ts); a district holds about a sixth of them. */
const DISTRICT = 'POLYGON((6.7525 51.2045, 6.7610 51.2032, 6.7635 51.2150, 6.7580 51.2221, 6.7512 51.2170, 6.7525 51.2045))';

/** Latencies of `paths` requested one at a time, in turn, for `durationS`. */
async function oneAtATime(base: string, paths: string[], durationS: number): Promise<{ p50Ms: number; p99Ms: number; requests: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + durationS * 1000;
  for (let i = 0; performance.now() < end; i++) {
    const t0 = performance.now();
    const res = await fetch(`${base}${paths[i % paths.length]}`);
    await res.arrayBuffer();
    latencies.push(performance.now() - t0);
    if (res.status !== 200) errors++;
  }
  latencies.sort((a, b) => a - b);
  return { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), requests: latencies.length, errors };
}

/** Clients following next links through lamps' months of Observations; Observations per second. */
async function pageThrough(base: string, lamps: number[], clients: number, durationS: number): Promise<{ observationsPerSecond: number; pages: number; errors: number }> {
  let observations = 0;
  let pages = 0;
  let errors = 0;
  let nextLamp = 0;
  const t0 = performance.now();
  const end = t0 + durationS * 1000;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end) {
      const lamp = lamps[nextLamp++ % lamps.length]!;
      const filter = encodeURIComponent(`phenomenonTime ge ${MONTH.from} and phenomenonTime lt ${MONTH.to}`);
      let url: string | undefined = `${base}/sta/v1.1/Datastreams(${datastreamId('raw', `lamp-${lamp}`, 'pm2_5', '')})/Observations?$top=1000&$filter=${filter}`;
      while (url) {
        const res = await fetch(url);
        if (res.status !== 200) {
          errors++;
          break;
        }
        const body = (await res.json()) as { value: unknown[]; '@iot.nextLink'?: string };
        observations += body.value.length;
        pages++;
        url = body['@iot.nextLink'];
      }
    }
  }));
  return { observationsPerSecond: observations / ((performance.now() - t0) / 1000), pages, errors };
}

interface IngestRun {
  uplinksPerSecond: number;
  /** The service's CPU per committed uplink, µs. */
  cpuMicrosPerUplink: number;
  committed: number;
  mqttP50Ms: number | null;
  mqttP99Ms: number | null;
  messages: number;
  matched: number;
}

/**
 * Ingest at `rate` for `durationS` into a fresh service, `staTopics` its STA_MQTT_TOPICS;
 * with a subscriber on v1.1/# when publishing is on. Latency: the subscriber's receipt of an
 * Observation minus the commit of its uplink (the service child reports commit times).
 */
async function ingestRun(env: BenchEnvironment, fleet: ReturnType<typeof buildFleet>, rate: number, durationS: number, staTopics: string, run: string): Promise<IngestRun> {
  const prefix = 'bench-sta/application';
  const service = await startServiceChild(benchServiceEnv(env, { INGEST_CHIRPSTACK_PREFIX: prefix, STA_MQTT_TOPICS: staTopics, BENCH_COMMIT_TIMES: '1' }));
  const received: { id: string; at: number }[] = [];
  let subscriber: mqtt.MqttClient | null = null;
  try {
    if (staTopics !== 'off') {
      subscriber = await mqtt.connectAsync(env.mqttUrl, { clientId: `bench-sta-sub-${process.pid}-${run}`, protocolVersion: 4, clean: true });
      subscriber.on('message', (_topic, payload) => {
        const at = Date.now();
        // The id is all that is needed; parsing the whole message would load this process, not the service.
        const m = /"@iot\.id":"([^"]+)"/.exec(payload.toString('utf8', 0, 400));
        if (m) received.push({ id: m[1]!, at });
      });
      const watched = fleet.slice(0, 1000).flatMap((d) => ['pm2_5', 'temperature'].map((m) => `v1.1/Datastreams(${datastreamId('raw', d.asset.id, m, '')})/Observations`));
      for (let i = 0; i < watched.length; i += 500) await subscriber.subscribeAsync(watched.slice(i, i + 500), { qos: 0 });
    }
    const uplinks = Math.round(rate * durationS);
    const publisher = await startPublisher({
      mqttUrl: env.mqttUrl, protocolVersion: env.mqttProtocolVersion, uplinks, maxInFlight: 5000, paced: true,
      // The registered fleet's seed; a later start makes the second run's uplinks new ones.
      traffic: { devices: fleet.length, kinds: ['air'], via: 'chirpstack-json', seed: FLEET_SEED, rate, prefixes: { chirpstack: prefix, concentrator: 'bench-sta/450mhz', applicationId: 'bench' }, start: new Date().toISOString() },
    });
    const before = await service.report();
    const published = publisher.go();
    let seen = 0;
    let progressAt = Date.now();
    while (service.progress().committed - before.committed < uplinks) {
      await new Promise((r) => setTimeout(r, 50));
      const now = service.progress().committed;
      if (now !== seen) [seen, progressAt] = [now, Date.now()];
      else if (Date.now() - progressAt > 60_000) throw new Error('ingest stopped committing for 60 s');
    }
    const report = await published;
    const after = await service.report();
    await new Promise((r) => setTimeout(r, 1000));
    const elapsedS = (after.lastCommitAt - report.startedAt) / 1000;
    // Commit time of each reading: its uplink's, by device and time.
    const commits = new Map(after.commitTimes ?? []);
    const deviceOf = new Map<number, string>();
    for (const d of fleet) for (const metric of ['pm1', 'pm2_5', 'pm10', 'no2', 'o3', 'co2', 'temperature', 'relative_humidity', 'pressure', 'noise']) deviceOf.set(datastreamId('raw', d.asset.id, metric, ''), d.devEui);
    const latencies: number[] = [];
    for (const r of received) {
      const key = parseObservationId(r.id);
      const dev = key ? deviceOf.get(key.datastreamId) : undefined;
      const committedAt = dev && key ? commits.get(`${dev}|${Number(key.micros / 1000n)}`) : undefined;
      if (committedAt !== undefined) latencies.push(r.at - committedAt);
    }
    latencies.sort((a, b) => a - b);
    return {
      uplinksPerSecond: uplinks / elapsedS, committed: after.committed - before.committed,
      cpuMicrosPerUplink: ((after.cpuSeconds - before.cpuSeconds) * 1e6) / (after.committed - before.committed),
      mqttP50Ms: latencies.length ? percentile(latencies, 50) : null, mqttP99Ms: latencies.length ? percentile(latencies, 99) : null,
      messages: received.length, matched: latencies.length,
    };
  } finally {
    await subscriber?.endAsync();
    await service.stop();
  }
}

export async function staBench(opts: { durationS?: number; rate?: number; json?: string } = {}): Promise<Record<string, unknown>> {
  const durationS = opts.durationS ?? 10;
  const rate = opts.rate ?? 5000;
  const env = await benchEnvironment();
  const setup = createPool({ url: env.databaseUrl, log: benchLog });
  try {
    const { timescale } = await migrate(setup);
    const monthStart = new Date(MONTH.from);
    const readings = await seedApiCity(setup, monthStart);
    // What ingest keeps for every device: its latest values (the catalogue of series reads them).
    await setup.query(`
      insert into latest_state (dev_eui, asset_id, time, metrics, last_seen_at)
      select d.dev_eui, d.asset_id, t, jsonb_build_object('pm2_5', jsonb_build_array((extract(epoch from t) * 1000)::bigint, 1, 'ok')), t
      from devices d, lateral (select $1::timestamptz + interval '30 days' - interval '15 minutes' as t) x
      where d.asset_id like 'lamp-%'`, [monthStart]);
    await catchUpSeries(setup);
    if (timescale) {
      await setup.query(`call refresh_continuous_aggregate('readings_hourly', null, null)`);
      await setup.query(`call refresh_continuous_aggregate('readings_daily', null, null)`);
    }
    await setup.query('vacuum analyze');
    // Air-quality lamps for the MQTT part (5,000 devices, about 10 public readings per uplink).
    const fleet = buildFleet({ devices: 5000, kinds: ['air'], seed: FLEET_SEED });
    await registerFleet(setup, fleet, null);

    const service = await startServiceChild(benchServiceEnv(env, { OPEN_DATA_RATE_LIMIT_PER_MINUTE: '100000000', STA_MQTT_TOPICS: 'off' }));
    let http: Record<string, unknown>;
    try {
      const base = service.httpUrl;
      const health = await autocannon({ url: `${base}/health`, duration: Math.max(2, Math.min(durationS, 5)), connections: 1 });
      const expand = encodeURIComponent('Datastreams($expand=Observations($top=1;$orderby=phenomenonTime desc))');
      const latestPaths = Array.from({ length: 10 }, (_, k) => `/sta/v1.1/Things?$top=100&$skip=${k * 100}&$expand=${expand}`);
      const latest = await oneAtATime(base, latestPaths, durationS);
      const lamps = Array.from({ length: 1000 }, (_, i) => ((i * 379) % 1000) + 1);
      const paging = await pageThrough(base, lamps, 4, durationS);
      const monthFilter = encodeURIComponent(`phenomenonTime ge ${MONTH.from} and phenomenonTime lt ${MONTH.to}`);
      const countPaths = lamps.slice(0, 200).map((l) => `/sta/v1.1/Datastreams(${datastreamId('raw', `lamp-${l}`, 'pm2_5', '')})/Observations?$count=true&$top=0&$filter=${monthFilter}`);
      const count = await oneAtATime(base, countPaths, durationS);
      const geo = await oneAtATime(base, [`/sta/v1.1/Things?$top=1000&$select=id,name&$filter=${encodeURIComponent(`st_within(Locations/location, geography'${DISTRICT}')`)}`], durationS);
      const inDistrict = ((await (await fetch(`${base}/sta/v1.1/Things?$count=true&$top=0&$filter=${encodeURIComponent(`st_within(Locations/location, geography'${DISTRICT}')`)}`)).json()) as { '@iot.count': number })['@iot.count'];
      http = { health: { p99Ms: health.latency.p99, p50Ms: health.latency.p50, rps: health.requests.average }, latest, paging, count, geo, inDistrict };
    } finally {
      await service.stop();
    }

    // Without SensorThings MQTT, then with it and a subscriber: the same traffic rate.
    const without = await ingestRun(env, fleet, rate, durationS, 'off', 'bench-sta-a');
    const withMqtt = await ingestRun(env, fleet, rate, durationS, 'datastreams', 'bench-sta-b');
    const slowdown = ((without.uplinksPerSecond - withMqtt.uplinksPerSecond) / without.uplinksPerSecond) * 100;

    const h = http as { health: { p99Ms: number; p50Ms: number; rps: number }; latest: { p99Ms: number; p50Ms: number; errors: number }; paging: { observationsPerSecond: number; pages: number; errors: number }; count: { p99Ms: number; p50Ms: number; errors: number }; geo: { p99Ms: number; p50Ms: number; errors: number }; inDistrict: number };
    const result = {
      latestPageP99Ms: h.latest.p99Ms,
      observationsPerSecond: h.paging.observationsPerSecond,
      countP99Ms: h.count.p99Ms,
      geoFilterP99Ms: h.geo.p99Ms,
      mqttP99Ms: withMqtt.mqttP99Ms,
      ingestSlowdownPercent: slowdown,
      baselineHealth: h.health,
      details: { latest: h.latest, paging: h.paging, count: h.count, geo: { ...h.geo, thingsInDistrict: h.inDistrict }, ingestWithout: without, ingestWith: withMqtt },
      parameters: { durationS, rate, lamps: 1000, bays: 10_000, readings, airDevices: fleet.length, timescale, ...env.describe, node: process.version },
    };
    printTable('stadtfunk bench sta (SensorThings API 1.1)', [
      ['database', `${env.describe.database}${timescale ? ' (TimescaleDB)' : ''}`],
      ['broker', env.describe.broker],
      ['seeded', `10,000 bays, 1,000 lamps, ${readings.toLocaleString('en-US')} readings (a month); 5,000 air lamps for ingest`],
      ['GET /health (baseline) p50 / p99 ms, one at a time', `${h.health.p50Ms} / ${h.health.p99Ms}`],
      ['latest of every Datastream, page of 100 Things: p50 / p99 ms', `${h.latest.p50Ms.toFixed(1)} / ${h.latest.p99Ms.toFixed(1)} (errors ${h.latest.errors})`],
      ['a month of Observations by $top=1000, 4 clients: obs/s', `${Math.round(h.paging.observationsPerSecond).toLocaleString('en-US')} (${h.paging.pages} pages, errors ${h.paging.errors})`],
      ['$count over a month of one Datastream: p50 / p99 ms', `${h.count.p50Ms.toFixed(1)} / ${h.count.p99Ms.toFixed(1)} (errors ${h.count.errors})`],
      [`st_within a district (${h.inDistrict} Things): p50 / p99 ms`, `${h.geo.p50Ms.toFixed(1)} / ${h.geo.p99Ms.toFixed(1)} (errors ${h.geo.errors})`],
      [`ingest at ${rate}/s without STA MQTT: uplinks/s, service CPU µs/uplink`, `${Math.round(without.uplinksPerSecond).toLocaleString('en-US')}, ${without.cpuMicrosPerUplink.toFixed(0)}`],
      [`ingest at ${rate}/s with STA MQTT + subscriber: uplinks/s, service CPU µs/uplink`, `${Math.round(withMqtt.uplinksPerSecond).toLocaleString('en-US')}, ${withMqtt.cpuMicrosPerUplink.toFixed(0)}`],
      ['ingest slowdown %', slowdown.toFixed(1)],
      ['committed reading → subscriber p50 / p99 ms (2,000 Datastreams)', `${withMqtt.mqttP50Ms} / ${withMqtt.mqttP99Ms} (${withMqtt.matched.toLocaleString('en-US')} of ${withMqtt.messages.toLocaleString('en-US')} messages matched to a commit)`],
      ['targets', 'latest page p99 < 150 ms; ≥ 100,000 obs/s; count p99 < 20 ms; geo p99 < 30 ms; MQTT p99 < 250 ms; slowdown ≤ 10 %'],
    ]);
    await writeJson(opts.json, result);
    return result;
  } finally {
    await setup.end();
    await env.close();
  }
}
