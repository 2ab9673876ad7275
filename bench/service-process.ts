/**
 * Child process of the benchmarks: the service as `stadtfunk start` runs it, in its own
 * process, so that its memory and CPU are its own and not the load generator's or the
 * harness's. It reports commits (count, publish → commit latency per uplink) and samples
 * its own RSS. Started with `node --import tsx`; talks over IPC (see startServiceChild).
 */
import pino from 'pino';
import { loadConfig } from '../config.js';
import { startService } from '../service.js';

export type ServiceProcessRequest = { start: Record<string, string> } | 'report' | 'stop';

export interface ServiceProcessReport {
  committed: number;
  lastCommitAt: number;
  /** Publish → commit per uplink, ms (the uplink's time is its publish time in the benchmarks). */
  latenciesMs: number[];
  /** Highest RSS since the previous report (or the start), and RSS now. */
  rssPeakMb: number;
  rssMb: number;
  /** CPU time used since the service started, seconds (user + system). */
  cpuSeconds: number;
  /** With BENCH_COMMIT_TIMES=1: when each uplink was committed, by `${devEui}|${epoch ms of its time}` (bench sta). */
  commitTimes?: [string, number][];
}

async function main(env: Record<string, string>): Promise<void> {
  const log = pino({ level: env.LOG_LEVEL ?? 'warn' });
  const service = await startService(loadConfig(env), log);
  const cpuAtStart = process.cpuUsage();
  const latencies: number[] = [];
  let committed = 0;
  let lastCommitAt = 0;
  const publishCommitted = service.liveBus.publishCommitted.bind(service.liveBus);
  const commitTimes = env.BENCH_COMMIT_TIMES === '1' ? new Map<string, number>() : null;
  service.liveBus.publishCommitted = (batch, result) => {
    const now = Date.now();
    // Booked once what follows the commit has run (the SensorThings publisher among it): a
    // 2,000-uplink batch's bookkeeping (about 2 µs an uplink in a profile) was counted by bench sta as MQTT latency.
    queueMicrotask(() => {
      for (const u of batch.uplinks) latencies.push(now - u.receivedAt.getTime());
      if (commitTimes) for (const u of batch.uplinks) commitTimes.set(`${u.devEui}|${u.receivedAt.getTime()}`, now);
      committed += batch.uplinks.length;
      lastCommitAt = now;
    });
    publishCommitted(batch, result);
  };
  let rssPeakMb = process.memoryUsage.rss() / 1e6;
  const sampler = setInterval(() => {
    rssPeakMb = Math.max(rssPeakMb, process.memoryUsage.rss() / 1e6);
    process.send?.({ progress: committed, lastCommitAt });
  }, 100);
  process.send?.({ ready: true, httpUrl: service.httpUrl });
  process.on('message', async (m: ServiceProcessRequest) => {
    if (m === 'report') {
      const cpu = process.cpuUsage(cpuAtStart);
      const rssMb = process.memoryUsage.rss() / 1e6;
      const report: ServiceProcessReport = {
        committed, lastCommitAt, latenciesMs: latencies, rssPeakMb: Math.max(rssPeakMb, rssMb), rssMb, cpuSeconds: (cpu.user + cpu.system) / 1e6,
        ...(commitTimes ? { commitTimes: [...commitTimes] } : {}),
      };
      rssPeakMb = rssMb;
      process.send?.({ report });
    } else if (m === 'stop') {
      clearInterval(sampler);
      await service.stop();
      process.send?.({ stopped: true }, () => process.exit(0));
    }
  });
}

process.once('message', (m: ServiceProcessRequest) => {
  if (typeof m === 'object' && 'start' in m) {
    main(m.start).catch((error: unknown) => {
      process.send?.({ error: (error as Error).message ?? String(error) }, () => process.exit(1));
    });
  }
});
