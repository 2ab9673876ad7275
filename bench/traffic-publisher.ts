/**
 * Child process of the benchmarks: builds simulated city traffic and publishes it flat
 * out (QoS 1, bounded in flight), so that publishing does not share an event loop
 * with the ingest being measured. Started with `node --import tsx`; talks over IPC.
 */
import mqtt from 'mqtt';
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

async function run(task: PublisherTask): Promise<PublisherReport> {
  return new URL(task.mqttUrl).protocol === 'mqtt:' ? runRaw(task) : runMqttJs(task);
}

/** The lean path (raw-publisher.ts): flat out, every packet is encoded before the clock starts. */
async function runRaw(task: PublisherTask): Promise<PublisherReport> {
  const encoded: EncodedPublish[] = [];
  if (!task.paced) {
    const traffic = new CityTraffic({ ...task.traffic, start: new Date(task.traffic.start) });
    for (let i = 0; i < task.uplinks; i++) for (const m of traffic.next().messages) encoded.push(encodePublish(m.topic, m.payload, task.protocolVersion));
  }
  const publisher = await connectRawPublisher({ url: task.mqttUrl, clientId: `stadtfunk-bench-pub-${process.pid}`, protocolVersion: task.protocolVersion, maxInFlight: task.maxInFlight });
  process.send?.({ ready: true });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const startedAt = Date.now();
  const cpuAtStart = process.cpuUsage();
  let source: () => EncodedPublish | null | Promise<EncodedPublish | null>;
  if (task.paced) {
    const rate = task.traffic.rate ?? 1;
    const traffic = new CityTraffic({ ...task.traffic, start: new Date(startedAt) });
    const queue: EncodedPublish[] = [];
    let k = 0;
    // Uplink k is generated (with its time) and sent at start + k / rate; the messages of one
    // uplink (a concentrator's copies) go out together.
    const take = (): EncodedPublish | null => {
      k++;
      for (const m of traffic.next().messages) queue.push(encodePublish(m.topic, m.payload, task.protocolVersion));
      return queue.shift() ?? null;
    };
    source = () => {
      if (queue.length > 0) return queue.shift()!;
      if (k >= task.uplinks) return null;
      const wait = startedAt + (k * 1000) / rate - Date.now();
      return wait > 1 ? new Promise((r) => setTimeout(r, wait)).then(take) : take();
    };
  } else {
    let i = 0;
    source = () => (i < encoded.length ? encoded[i++]! : null);
  }
  const messages = await publisher.publishAll(source);
  const finishedAt = Date.now();
  const cpuSeconds = cpuSecondsSince(cpuAtStart);
  await publisher.close();
  return { messages, uplinks: task.uplinks, startedAt, finishedAt, cpuSeconds };
}

/** Through mqtt.js, for brokers the lean path does not speak (mqtts://, ws://). */
async function runMqttJs(task: PublisherTask): Promise<PublisherReport> {
  // Flat out: build everything first, generation is not what is measured.
  const messages = [];
  if (!task.paced) {
    const traffic = new CityTraffic({ ...task.traffic, start: new Date(task.traffic.start) });
    for (let i = 0; i < task.uplinks; i++) messages.push(...traffic.next().messages);
  }
  const client = await mqtt.connectAsync(task.mqttUrl, { clientId: `stadtfunk-bench-pub-${process.pid}`, protocolVersion: task.protocolVersion });
  process.send?.({ ready: true });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const startedAt = Date.now();
  const cpuAtStart = process.cpuUsage();
  let inFlight = 0;
  let wake: (() => void) | null = null;
  let sent = 0;
  const publish = async (m: { topic: string; payload: Buffer }): Promise<void> => {
    while (inFlight >= task.maxInFlight) await new Promise<void>((r) => (wake = r));
    inFlight++;
    sent++;
    client.publish(m.topic, m.payload, { qos: 1 }, () => {
      inFlight--;
      const w = wake;
      wake = null;
      w?.();
    });
  };
  if (task.paced) {
    const rate = task.traffic.rate ?? 1;
    const traffic = new CityTraffic({ ...task.traffic, start: new Date(startedAt) });
    for (let k = 0; k < task.uplinks; k++) {
      const due = startedAt + (k * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      for (const m of traffic.next().messages) await publish(m);
    }
  } else {
    for (const m of messages) await publish(m);
  }
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  const finishedAt = Date.now();
  const cpuSeconds = cpuSecondsSince(cpuAtStart);
  await client.endAsync();
  return { messages: sent, uplinks: task.uplinks, startedAt, finishedAt, cpuSeconds };
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
