/**
 * Child process of the benchmarks: builds simulated city traffic and publishes it flat
 * out (QoS 1, bounded in flight), so that publishing does not share an event loop
 * with the ingest being measured. Started with `node --import tsx`; talks over IPC.
 */
import mqtt from 'mqtt';
import type { SimMessage } from '../simulators/messages.js';
import { CityTraffic, type TrafficOptions } from '../simulators/traffic.js';
import { connectRawPublisher, encodePublish, type EncodedPublish } from './raw-publisher.js';

export interface PublisherTask {
  mqttUrl: string;
  protocolVersion: 4 | 5;
  traffic: Omit<TrafficOptions, 'start'> & { start: string };
  uplinks: number;
  maxInFlight: number;
  /**
   * Publish uplink k at go + k / rate, generating it just then with that time (for latency
   * measurements). Otherwise everything is built first and published flat out.
   */
  paced?: boolean;
}

export interface PublisherReport {
  messages: number;
  uplinks: number;
  startedAt: number;
  finishedAt: number;
  /** CPU time this process used from the start of publishing to the last acknowledgement, s (user + system). */
  cpuSeconds: number;
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** The lean path (raw-publisher.ts) speaks mqtt:// only; mqtt.js takes the rest (mqtts://, ws://). */
const leanPath = (task: PublisherTask): boolean => new URL(task.mqttUrl).protocol === 'mqtt:';

/** What a sender takes for a message: on the lean path the encoded packet. */
function preparer(task: PublisherTask): (message: SimMessage) => unknown {
  return leanPath(task) ? (m) => encodePublish(m.topic, m.payload, task.protocolVersion) : (m) => m;
}

/** Where the messages go. */
interface Sender {
  /** Sends every message `source` gives (until null); resolves with the count once all are acknowledged. */
  publishAll(source: () => unknown): Promise<number>;
  close(): Promise<void>;
}

async function connectSender(task: PublisherTask): Promise<Sender> {
  const clientId = `stadtfunk-bench-pub-${process.pid}`;
  if (leanPath(task)) {
    const publisher = await connectRawPublisher({ url: task.mqttUrl, clientId, protocolVersion: task.protocolVersion, maxInFlight: task.maxInFlight });
    return {
      publishAll: (source) => publisher.publishAll(source as () => EncodedPublish | null | Promise<EncodedPublish | null>),
      close: () => publisher.close(),
    };
  }
  const client = await mqtt.connectAsync(task.mqttUrl, { clientId, protocolVersion: task.protocolVersion });
  return {
    async publishAll(source) {
      let inFlight = 0;
      let wake: (() => void) | null = null;
      let sent = 0;
      for (let m = (await source()) as SimMessage | null; m !== null; m = (await source()) as SimMessage | null) {
        while (inFlight >= task.maxInFlight) await new Promise<void>((r) => (wake = r));
        inFlight++;
        sent++;
        client.publish(m.topic, m.payload, { qos: 1 }, () => {
          inFlight--;
          const w = wake;
          wake = null;
          w?.();
        });
      }
      while (inFlight > 0) await new Promise<void>((r) => (wake = r));
      return sent;
    },
    close: () => client.endAsync(),
  };
}

async function run(task: PublisherTask): Promise<PublisherReport> {
  const prepare = preparer(task);
  // Flat out: everything is built (on the lean path, encoded) first; generation is not what is measured.
  const prepared: unknown[] = [];
  if (!task.paced) {
    const traffic = new CityTraffic({ ...task.traffic, start: new Date(task.traffic.start) });
    for (let i = 0; i < task.uplinks; i++) for (const m of traffic.next().messages) prepared.push(prepare(m));
  }
  const sender = await connectSender(task);
  process.send?.({ ready: true });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const startedAt = Date.now();
  const cpuAtStart = process.cpuUsage();
  let source: () => unknown;
  if (task.paced) {
    const rate = task.traffic.rate ?? 1;
    const traffic = new CityTraffic({ ...task.traffic, start: new Date(startedAt) });
    const queue: unknown[] = [];
    let k = 0;
    // Uplink k is generated (with its time) and sent at start + k / rate; the messages of one
    // uplink (a concentrator's copies) go out together.
    const take = (): unknown => {
      k++;
      for (const m of traffic.next().messages) queue.push(prepare(m));
      return queue.shift() ?? null;
    };
    source = () => {
      if (queue.length > 0) return queue.shift();
      if (k >= task.uplinks) return null;
      const wait = startedAt + (k * 1000) / rate - Date.now();
      return wait > 1 ? new Promise((r) => setTimeout(r, wait)).then(take) : take();
    };
  } else {
    let i = 0;
    source = () => (i < prepared.length ? prepared[i++] : null);
  }
  const messages = await sender.publishAll(source);
  const finishedAt = Date.now();
  const cpuSeconds = cpuSecondsSince(cpuAtStart);
  await sender.close();
  return { messages, uplinks: task.uplinks, startedAt, finishedAt, cpuSeconds };
}

process.once('message', (task: PublisherTask) => {
  run(task).then(
    (report) => {
      process.send?.({ report });
      process.exit(0);
    },
    (error: Error) => {
      process.send?.({ error: error.message });
      process.exit(1);
    },
  );
});
