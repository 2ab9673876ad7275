/**
 * Raw-frame path benchmark: encrypted frames from simulated devices, each heard by all
 * three concentrators, published flat out into MQTT, through dedup (200 ms window), MIC,
 * 32-bit counter check, decryption and decoding into the database. Throughput is
 * counted from the first publish until the last uplink is committed. Beside it, in the
 * same run, the crypto step alone (parse + MIC + decrypt) with lora-packet and with
 * stadtfunk's node:crypto implementation.
 *
 * With --workers N, N service processes share the frames on an MQTT 5 shared subscription:
 * copies of one frame may reach different workers, and the database keeps one uplink
 * with all receptions (ingest issue, scale-out).
 *
 *   stadtfunk bench frames [--duration S] [--devices N] [--workers N] [--json FILE]
 */
import { randomBytes } from 'node:crypto';
import { registerFleet } from '../simulators/register.js';
import { CityTraffic } from '../simulators/traffic.js';
import { createPool, migrate } from '../storage/index.js';
import { loadConfig } from '../config.js';
import { cpuShares, cpuSharesRow, cpuSnapshot } from './machine-cpu.js';
import { benchEnvironment, benchLog, benchServiceEnv, printTable, writeJson } from './environment.js';
import { sharedSubscriptionProblem, startServiceChildren } from './service-child.js';
import { framesCryptoBench } from './frames-crypto.js';
import { startPublisher } from './publish.js';
import { activityPer, databaseActivity, activityRow } from './database-activity.js';


/** A run that makes no progress for this long fails with what is missing. */
const STALL_MS = 60_000;
export interface FramesBenchOptions {
  /** Seconds of traffic at the target rate to publish. Default 20. */
  durationS?: number;
  /** Uplinks per second the published traffic represents (published flat out). Default 5000. */
  targetRate?: number;
  devices?: number;
  /** Service processes on one shared subscription. Default 1. */
  workers?: number;
  json?: string;
}

export async function framesBench(opts: FramesBenchOptions = {}): Promise<Record<string, unknown>> {
  const durationS = opts.durationS ?? 20;
  const targetRate = opts.targetRate ?? 5000;
  const devices = opts.devices ?? 2000;
  const uplinks = Math.round(durationS * targetRate);
  const workers = opts.workers ?? 1;
  const env = await benchEnvironment();
  try {
    const problem = sharedSubscriptionProblem(workers, env.mqttProtocolVersion, env.describe.broker);
    if (problem) throw new Error(problem);
    const masterKey = randomBytes(32);
    const prefix = 'bench/450mhz';
    const trafficOptions = { devices, via: 'concentrator' as const, seed: 'bench-frames', rate: targetRate, allConcentrators: true, prefixes: { chirpstack: 'bench/application', concentrator: prefix, applicationId: 'bench' } };
    const start = new Date();
    const setup = createPool({ url: env.databaseUrl, log: benchLog });
    await migrate(setup);
    await registerFleet(setup, new CityTraffic({ ...trafficOptions, start }).fleet, masterKey);

    // The service as shipped (default limits, npm start's Node flags) in a process of its own.
    const serviceEnv = benchServiceEnv(env, { MASTER_KEY: masterKey.toString('hex'), INGEST_CONCENTRATOR_PREFIXES: prefix, INGEST_CONCENTRATOR_BANDS: `${prefix}=450MHz` });
    const config = loadConfig(serviceEnv);
    const services = await startServiceChildren(workers, (overrides) => ({ ...serviceEnv, ...overrides }));
    const committed = (): number => services.reduce((n, s) => n + s.progress().committed, 0);
    try {
      const publisher = await startPublisher({
        mqttUrl: env.mqttUrl, protocolVersion: env.mqttProtocolVersion, uplinks, maxInFlight: 2000,
        traffic: { ...trafficOptions, start: start.toISOString() },
      });
      const before = await Promise.all(services.map((s) => s.report()));
      const activityBefore = await databaseActivity(setup);
      const cpuBefore = cpuSnapshot();
      const published = publisher.go();
      // The service reports its commits over IPC: polling count(*) on uplinks every 100 ms
      // would load the database being measured. The count confirms it once at the end
      // (a redelivered frame would be reported twice but stored once).
      // With several workers a frame whose copies reached two of them is reported by both.
      // Never a silent wait: a run that stops making progress for STALL_MS fails and says
      // what is missing (a full test suite on two cores timed out here at 180 s, muted).
      let progress = { value: -1, at: Date.now() };
      const stalled = (value: number, what: string): void => {
        if (value !== progress.value) progress = { value, at: Date.now() };
        else if (Date.now() - progress.at > STALL_MS) {
          throw new Error(`bench frames: ${what}: ${value} of ${uplinks} uplinks, none more for ${STALL_MS / 1000} s (${workers} worker${workers === 1 ? '' : 's'}); frames lost or the machine too loaded`);
        }
      };
      while (committed() < uplinks) {
        await new Promise((r) => setTimeout(r, 50));
        stalled(committed(), 'committed by the service');
      }
      const cpuAfter = cpuSnapshot();
      let committedAt = Math.max(...services.map((s) => s.progress().lastCommitAt));
      progress = { value: -1, at: Date.now() };
      for (;;) {
        const stored = (await setup.query<{ n: number }>("select count(*)::int as n from uplinks where source = 'concentrator'")).rows[0]!.n;
        if (stored >= uplinks) break;
        stalled(stored, 'stored in the database');
        await new Promise((r) => setTimeout(r, 100));
        committedAt = Date.now();
      }
      const report = await published;
      const machineCpu = cpuShares(cpuBefore, cpuAfter, { service: services.map((s) => s.pid), loadGenerator: [publisher.pid], harness: [process.pid], loadGeneratorCpuSeconds: report.cpuSeconds });
      const after = await Promise.all(services.map((s) => s.report()));
      const database = activityPer(activityBefore, await databaseActivity(setup), uplinks);
      const elapsedS = (committedAt - report.startedAt) / 1000;
      const dup = (await setup.query<{ n: number }>('select count(*)::int - count(distinct (dev_eui, f_cnt))::int as n from uplinks')).rows[0]!.n;
      const crypto = await framesCryptoBench({ durationMs: 2000 });
      const result = {
        uplinksPerSecond: uplinks / elapsedS,
        // Every uplink is heard by all three concentrators; the few stats messages are not frames.
        framesPerSecond: (uplinks * 3) / elapsedS,
        cryptoFramesPerSecond: crypto.cryptoFramesPerSecond,
        uplinks,
        frames: report.messages,
        duplicateUplinks: dup,
        elapsedS,
        publishSeconds: (report.finishedAt - report.startedAt) / 1000,
        workers,
        ingestCpuPercent: (after.reduce((n, a, i) => n + a.cpuSeconds - before[i]!.cpuSeconds, 0) / elapsedS) * 100,
        ingestRssPeakMb: Math.max(...after.map((a) => a.rssPeakMb)),
        machineCpuPercentOfCore: machineCpu,
        database: { ...database, settings: env.describe.databaseSettings },
        parameters: { durationS, targetRate, devices, concentratorsPerFrame: 3, dedupWindowMs: config.ingest.dedupWindowMs, ...env.describe, node: process.version },
      };
      printTable('stadtfunk bench frames', [
        ['database', env.describe.database],
        ['database write settings', env.describe.databaseSettings],
        ['broker', env.describe.broker],
        ['ingest processes', workers === 1 ? '1' : `${workers} (MQTT 5 shared subscription)`],
        ['uplinks (3 frames each)', uplinks],
        ['uplinks/s, publish → commit', result.uplinksPerSecond],
        ['frames/s, publish → commit', result.framesPerSecond],
        ['duplicate uplinks', dup],
        [workers === 1 ? 'ingest CPU % (of one core)' : 'ingest CPU % (of one core, all processes)', result.ingestCpuPercent],
        [workers === 1 ? 'ingest RSS peak MB' : 'ingest RSS peak MB (largest process)', result.ingestRssPeakMb],
        cpuSharesRow(machineCpu),
        activityRow(database),
        ['crypto only, node:crypto frames/s', crypto.cryptoFramesPerSecond.nodeCrypto],
        ['crypto only, lora-packet frames/s (baseline)', crypto.cryptoFramesPerSecond.lorapacket],
        ['node:crypto / lora-packet', `${(crypto.cryptoFramesPerSecond.nodeCrypto / crypto.cryptoFramesPerSecond.lorapacket).toFixed(2)}×`],
        ['target', '≥ 5,000 uplinks/s (15,000 frames/s)'],
      ]);
      await writeJson(opts.json, result);
      return result;
    } finally {
      await Promise.all(services.map((s) => s.stop()));
      await setup.end();
    }
  } finally {
    await env.close();
  }
}
