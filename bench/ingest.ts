/**
 * Ingest benchmark: ChirpStack v4 JSON uplinks of a simulated city (20,000 devices of all
 * kinds by default: lamps, parking bays, counting sites, street lights, water gauges;
 * about 6 decoded readings plus RSSI/SNR per uplink) published from a child process at a target rate (or flat out),
 * through MQTT, the pipeline and the batch writer into a fresh database. Throughput is
 * counted from the first publish until the last uplink is committed; latency is
 * publish → commit per uplink (the publish time is the uplink's `time`; the commit time
 * is when the batch's transaction returned).
 *
 * In the same run: a naive pipeline (one INSERT per reading and per uplink, autocommit,
 * acknowledged one by one) over the same broker and database, and the database's COPY
 * ceiling (COPY FROM STDIN into a table shaped like readings; see copy-ceiling.ts).
 *
 *   stadtfunk bench ingest [--rate N] [--duration S] [--devices N] [--kinds air,parking,...] [--workers N] [--json FILE]
 */
import mqtt from 'mqtt';
import { DEVICE_KINDS, type DeviceKind } from '../simulators/fleet.js';
import { registerFleet } from '../simulators/register.js';
import { CityTraffic, type TrafficOptions } from '../simulators/traffic.js';
import { createPool, migrate } from '../storage/index.js';
import { cpuShares, cpuSharesRow, cpuSnapshot, type CpuShares } from './machine-cpu.js';
import { benchEnvironment, benchLog, type BenchEnvironment, benchServiceEnv, percentile, printTable, writeJson } from './environment.js';
import { sharedSubscriptionProblem, startServiceChildren } from './service-child.js';
import { activityPer, databaseActivity, activityRow } from './database-activity.js';
import { copyCeilingRowsPerSecond } from './copy-ceiling.js';
import { startPublisher } from './publish.js';

export interface IngestBenchOptions {
  /** Uplinks per second to publish; 0 = flat out. Default 0. */
  rate?: number;
  durationS?: number;
  devices?: number;
  /** Device kinds in the simulated city; default all (about 6 readings per uplink). */
  kinds?: DeviceKind[];
  /**
   * Service processes sharing the load on an MQTT 5 shared subscription, as a scaled-out
   * deployment runs them. Default 1. More than one needs an MQTT 5 broker (not aedes).
   */
  workers?: number;
  json?: string;
}

export async function ingestBench(opts: IngestBenchOptions = {}): Promise<Record<string, unknown>> {
  const durationS = opts.durationS ?? 20;
  const devices = opts.devices ?? 20_000;
  const workers = opts.workers ?? 1;
  const flatOut = !opts.rate;
  const nominalRate = opts.rate || 10_000;
  const uplinks = Math.round(durationS * nominalRate);
  const staMqttTopics = process.env.STA_MQTT_TOPICS || 'datastreams';
  const env = await benchEnvironment();
  const problem = sharedSubscriptionProblem(workers, env.mqttProtocolVersion, env.describe.broker);
  if (problem) {
    await env.close();
    throw new Error(problem);
  }
  const prefix = 'bench/application';
  const trafficOptions = { devices, kinds: opts.kinds ?? [...DEVICE_KINDS], via: 'chirpstack-json' as const, seed: 'bench-ingest', rate: nominalRate, prefixes: { chirpstack: prefix, concentrator: 'bench/450mhz', applicationId: 'bench' } };
  const setup = createPool({ url: env.databaseUrl, log: benchLog });
  try {
    await migrate(setup);
    const start = new Date();
    await registerFleet(setup, new CityTraffic({ ...trafficOptions, start }).fleet, null);

    // --- stadtfunk ---------------------------------------------------------------------------
    // The service as shipped (default batch size 2,000, in-flight limit 10,000) in a process of
    // its own, as `stadtfunk start` runs it: its RSS and CPU are not the harness's. With
    // --workers N, N such processes on one shared subscription.
    // SensorThings MQTT as shipped (the canonical Datastream topics on the external broker);
    // STA_MQTT_TOPICS=off in the harness's environment measures ingest without it.
    const services = await startServiceChildren(workers, (overrides) => benchServiceEnv(env, { INGEST_CHIRPSTACK_PREFIX: prefix, STA_MQTT_TOPICS: staMqttTopics, ...overrides }));
    let result: { uplinksPerSecond: number; p50LatencyMs: number; p99LatencyMs: number; rssMb: number; cpuPercent: number; elapsedS: number; committedPerWorker: number[] };
    let database: ReturnType<typeof activityPer> = null;
    let machineCpu: CpuShares | null = null;
    try {
      // Timestamps are the publish schedule: the child publishes uplink k at start + k/rate.
      const publisher = await startPublisher({
        mqttUrl: env.mqttUrl, protocolVersion: env.mqttProtocolVersion, uplinks, maxInFlight: 5000,
        traffic: { ...trafficOptions, start: new Date().toISOString() },
        paced: !flatOut,
      });
      const before = await Promise.all(services.map((s) => s.report()));
      const activityBefore = await databaseActivity(setup);
      const cpuBefore = cpuSnapshot();
      const published = publisher.go();
      // A broker that drops messages (e.g. Mosquitto's default max_queued_messages of 1000 for
      // a slow subscriber) would leave this waiting forever: give up after a minute without progress.
      const committed = (): number => services.reduce((n, s) => n + s.progress().committed, 0);
      let seen = 0;
      let progressAt = Date.now();
      while (committed() < uplinks) {
        await new Promise((r) => setTimeout(r, 50));
        const now = committed();
        if (now !== seen) [seen, progressAt] = [now, Date.now()];
        else if (Date.now() - progressAt > 60_000) {
          throw new Error(`${uplinks - now} of ${uplinks} uplinks never arrived (no commit for 60 s); did the broker drop them? Mosquitto needs max_queued_messages raised for this (see bench/mosquitto.ts)`);
        }
      }
      const cpuAfter = cpuSnapshot();
      const report = await published;
      machineCpu = cpuShares(cpuBefore, cpuAfter, { service: services.map((s) => s.pid), loadGenerator: [publisher.pid], harness: [process.pid], loadGeneratorCpuSeconds: report.cpuSeconds });
      const after = await Promise.all(services.map((s) => s.report()));
      database = activityPer(activityBefore, await databaseActivity(setup), uplinks);
      const elapsedS = (Math.max(...after.map((a) => a.lastCommitAt)) - report.startedAt) / 1000;
      const latencies = after.flatMap((a) => a.latenciesMs).sort((x, y) => x - y);
      const cpuSeconds = after.reduce((n, a, i) => n + a.cpuSeconds - before[i]!.cpuSeconds, 0);
      result = {
        uplinksPerSecond: uplinks / elapsedS,
        p50LatencyMs: percentile(latencies, 50),
        p99LatencyMs: percentile(latencies, 99),
        // Per process: the target is each ingest process's memory.
        rssMb: Math.max(...after.map((a) => a.rssPeakMb)),
        // All workers together.
        cpuPercent: (cpuSeconds / elapsedS) * 100,
        elapsedS,
        committedPerWorker: after.map((a, i) => a.committed - before[i]!.committed),
      };
    } finally {
      await Promise.all(services.map((s) => s.stop()));
    }
    const readingsPerUplink = Number((await setup.query<{ r: number }>('select (select count(*) from readings)::float8 / greatest(1, (select count(*) from uplinks)) as r')).rows[0]!.r.toFixed(2));

    // --- naive baseline: one INSERT per row, ack per message ----------------------------------
    const baselineUplinks = Math.min(uplinks, 3000);
    const baseline = await naiveBaseline(env.mqttUrl, env.mqttProtocolVersion, env.databaseUrl, prefix, baselineUplinks, trafficOptions);

    // --- COPY ceiling ----------------------------------------------------------------------------
    // Two connections: ingest keeps two batches in the database at once.
    const copyCeiling = await copyCeilingRowsPerSecond(setup, { connections: 2 });

    const out = {
      ...result,
      baselineUplinksPerSecond: baseline,
      copyCeilingRowsPerSecond: copyCeiling,
      readingsPerUplink,
      readingsPerSecond: result.uplinksPerSecond * readingsPerUplink,
      workers,
      machineCpuPercentOfCore: machineCpu,
      database: { ...database, settings: env.describe.databaseSettings },
      rate: flatOut ? 'flat out' : nominalRate,
      durationS,
      uplinks,
      parameters: { devices, staMqttTopics, ...env.describe, node: process.version },
    };
    printTable('stadtfunk bench ingest (ChirpStack JSON, publish → commit)', [
      ['database', env.describe.database],
      ['database write settings', env.describe.databaseSettings],
      ['broker', env.describe.broker],
      ['SensorThings MQTT topics (STA_MQTT_TOPICS)', staMqttTopics],
      ['ingest processes', workers === 1 ? '1' : `${workers} (MQTT 5 shared subscription), uplinks each ${result.committedPerWorker.map((n) => n.toLocaleString('en-US')).join(' / ')}`],
      ['uplinks published', `${uplinks} (${flatOut ? 'flat out' : `${nominalRate}/s`})`],
      ['stadtfunk uplinks/s', out.uplinksPerSecond],
      ['readings per uplink', readingsPerUplink],
      ['stadtfunk readings/s', out.readingsPerSecond],
      ['latency p50 / p99 ms', `${out.p50LatencyMs} / ${out.p99LatencyMs}`],
      [workers === 1 ? 'ingest RSS peak MB' : 'ingest RSS peak MB (largest process)', out.rssMb],
      [workers === 1 ? 'ingest CPU % of one core' : 'ingest CPU % of one core (all processes)', out.cpuPercent],
      cpuSharesRow(machineCpu),
      activityRow(database),
      ['naive pipeline uplinks/s (baseline)', baseline],
      ['stadtfunk / naive', `${(out.uplinksPerSecond / baseline).toFixed(1)}×`],
      ['COPY ceiling rows/s (2 connections)', copyCeiling],
      ['stadtfunk readings/s / COPY ceiling', `${((out.readingsPerSecond / copyCeiling) * 100).toFixed(1)} %`],
      ['targets', '≥ 10,000 uplinks/s for 60 s; p99 < 500 ms at 5,000/s; RSS < 300 MB'],
    ]);
    await writeJson(opts.json, out);
    return out;
  } finally {
    await setup.end();
    await env.close();
  }
}

/** One message at a time: parse, one INSERT per uplink and reading, then acknowledge. */
async function naiveBaseline(
  mqttUrl: string, protocolVersion: 4 | 5, databaseUrl: string, prefix: string, uplinks: number,
  trafficOptions: Omit<TrafficOptions, 'start'>,
): Promise<number> {
  const pool = createPool({ url: databaseUrl, log: benchLog, max: 2 });
  const traffic = new CityTraffic({ ...trafficOptions, seed: 'bench-naive', start: new Date() });
  const sub = await mqtt.connectAsync(mqttUrl, { clientId: `naive-${process.pid}`, protocolVersion, clean: true });
  let done = 0;
  let finished: () => void = () => undefined;
  const all = new Promise<void>((r) => (finished = r));
  let chain = Promise.resolve();
  sub.on('message', (_topic, payload) => {
    chain = chain.then(async () => {
      const e = JSON.parse(payload.toString()) as { deduplicationId: string; time: string; deviceInfo: { devEui: string }; data: string };
      await pool.query(`insert into uplinks (received_at, id, dev_eui, payload, source) values ($1, $2, $3, $4, 'chirpstack') on conflict do nothing`, [e.time, `naive-${e.deduplicationId}`, e.deviceInfo.devEui, Buffer.from(e.data, 'base64')]);
      for (let m = 0; m < 12; m++) {
        await pool.query(`insert into readings (time, dev_eui, metric, channel, value, quality, uplink_id) values ($1, $2, $3, 'naive', $4, 'ok', $5) on conflict do nothing`, [e.time, e.deviceInfo.devEui, `m${m}`, m, `naive-${e.deduplicationId}`]);
      }
      if (++done === uplinks) finished();
    });
  });
  await sub.subscribeAsync(`${prefix}/+/device/+/event/up`, { qos: 1 });
  const pub = await mqtt.connectAsync(mqttUrl, { clientId: `naive-pub-${process.pid}`, protocolVersion });
  const t0 = Date.now();
  for (let i = 0; i < uplinks; i++) for (const m of traffic.next().messages) pub.publish(m.topic, m.payload, { qos: 1 });
  await all;
  const rate = uplinks / ((Date.now() - t0) / 1000);
  await pub.endAsync();
  await sub.endAsync();
  await pool.end();
  return rate;
}
