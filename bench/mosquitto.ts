/**
 * A private Mosquitto for tests and benchmarks that need an MQTT 5 broker with shared subscriptions
 * and no message loss for a slow subscriber (the packaged default max_queued_messages
 * of 1000 drops QoS 1 messages). Started only where the `mosquitto` binary exists;
 * callers skip with a clear message otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';

export function mosquittoAvailable(): boolean {
  return spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' }).status === 0;
}

export interface TestMosquitto {
  url: string;
  stop(): Promise<void>;
}

/** `port`: a fixed port (to start a broker again where it was); default any free one. */
export async function startMosquitto(options: { port?: number } = {}): Promise<TestMosquitto> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stadtfunk-mosquitto-'));
  const port = options.port ?? (await freePort());
  const conf = path.join(dir, 'mosquitto.conf');
  await fs.writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_queued_messages 1000000',
      'max_inflight_messages 0',
      'max_keepalive 120',
      // Running as root, mosquitto would switch to its own user; stay as we are.
      ...(os.userInfo().uid === 0 ? ['user root'] : []),
      'log_dest none',
    ].join('\n') + '\n',
  );
  const child: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`mosquitto did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
