import { fork } from 'node:child_process';
import { siblingModule } from '../package-root.js';
import { reapAfterRun } from './reaper.js';
import type { PublisherReport, PublisherTask } from './traffic-publisher.js';

export interface RunningPublisher {
  pid: number;
  /** Starts publishing (after the traffic was built and the client connected). */
  go(): Promise<PublisherReport>;
  kill(): void;
}

/** Forks the publisher child and waits until it has built its traffic and connected. */
export async function startPublisher(task: PublisherTask): Promise<RunningPublisher> {
  const entry = siblingModule(import.meta.url, 'traffic-publisher');
  const child = fork(entry.file, [], { execArgv: entry.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  if (child.pid) reapAfterRun({ pid: child.pid, match: 'traffic-publisher' });
  const messages: unknown[] = [];
  let notify: (() => void) | null = null;
  child.on('message', (m) => {
    messages.push(m);
    notify?.();
  });
  const next = async (): Promise<Record<string, unknown>> => {
    while (messages.length === 0) {
      if (child.exitCode !== null) throw new Error(`publisher exited with ${child.exitCode}`);
      await new Promise<void>((r) => {
        notify = r;
        child.once('exit', () => r());
      });
    }
    return messages.shift() as Record<string, unknown>;
  };
  child.send(task);
  const first = await next();
  if (first.error) throw new Error(`publisher: ${String(first.error)}`);
  return {
    pid: child.pid!,
    async go() {
      child.send('go');
      const m = await next();
      if (m.error) throw new Error(`publisher: ${String(m.error)}`);
      return m.report as PublisherReport;
    },
    kill: () => child.kill('SIGKILL'),
  };
}
