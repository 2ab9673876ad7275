import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { atRoot, siblingModule } from '../package-root.js';
import { reapAfterRun } from './reaper.js';
import type { ServiceProcessReport } from './service-process.js';

export interface ServiceChild {
  httpUrl: string;
  pid: number;
  /** Uplinks committed so far and when the last commit was, as last reported (every 100 ms). */
  progress(): { committed: number; lastCommitAt: number };
  report(): Promise<ServiceProcessReport>;
  stop(): Promise<void>;
}

/** Node's own flags in `npm start` (the V8 heap limit), so the benchmarked service runs as shipped. */
export function startScriptNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(atRoot('package.json'), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.split(/\s+/).filter((arg) => arg.startsWith('--'));
}

/** Starts the service in a child process with this environment and `npm start`'s Node flags. */
export async function startServiceChild(env: Record<string, string>): Promise<ServiceChild> {
  const entry = siblingModule(import.meta.url, 'service-process');
  const child = fork(entry.file, [], { execArgv: [...startScriptNodeFlags(), ...(process.env.BENCH_SERVICE_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), ...entry.execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  if (child.pid) reapAfterRun({ pid: child.pid, match: 'service-process' });
  let progress = { committed: 0, lastCommitAt: 0 };
  const waiters: { key: string; resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  child.on('message', (m: Record<string, unknown>) => {
    if ('progress' in m) progress = { committed: m.progress as number, lastCommitAt: m.lastCommitAt as number };
    for (const w of [...waiters]) {
      if (w.key in m || 'error' in m) {
        waiters.splice(waiters.indexOf(w), 1);
        if ('error' in m) w.reject(new Error(`service: ${String(m.error)}`));
        else w.resolve(m);
      }
    }
  });
  child.on('exit', (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`service process exited with ${code}`));
  });
  const next = (key: string) => new Promise<Record<string, unknown>>((resolve, reject) => waiters.push({ key, resolve, reject }));
  const ready = next('ready');
  child.send({ start: env });
  const { httpUrl } = await ready;
  return {
    httpUrl: httpUrl as string,
    pid: child.pid!,
    progress: () => progress,
    async report() {
      const r = next('report');
      child.send('report');
      return (await r).report as ServiceProcessReport;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const stopped = next('stopped').catch(() => undefined);
      child.send('stop');
      await stopped;
    },
  };
}

/**
 * `workers` service processes, each with the environment `envFor` makes of its overrides; with more than
 * one, they share the subscription as MQTT 5 group `bench`, each with a client id of its own.
 */
export async function startServiceChildren(workers: number, envFor: (overrides: Record<string, string>) => Record<string, string>): Promise<ServiceChild[]> {
  const services: ServiceChild[] = [];
  try {
    for (let i = 0; i < workers; i++) {
      const overrides: Record<string, string> = workers > 1 ? { MQTT_SHARED_GROUP: 'bench', MQTT_CLIENT_ID: `stadtfunk-bench-${process.pid}-${i + 1}` } : {};
      services.push(await startServiceChild(envFor(overrides)));
    }
    return services;
  } catch (error) {
    await Promise.all(services.map((s) => s.stop()));
    throw error;
  }
}

/** Several workers need shared subscriptions, which the embedded aedes broker lacks. */
export function sharedSubscriptionProblem(workers: number, protocolVersion: 4 | 5, broker: string): string | null {
  return workers > 1 && protocolVersion !== 5
    ? `--workers ${workers} needs an MQTT 5 broker with shared subscriptions (${broker} is not one): install mosquitto or set MQTT_URL`
    : null;
}
