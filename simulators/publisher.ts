/**
 * Publishes simulated traffic at a target rate with QoS 1, keeping a bounded number of
 * publishes in flight, and reports progress once a second.
 */
import type { MqttClient } from 'mqtt';
import type { CityTraffic } from './traffic.js';

export interface PublishProgress {
  uplinks: number;
  messages: number;
  errors: number;
  elapsedS: number;
  ratePerS: number;
}

export interface PublishOptions {
  client: MqttClient;
  traffic: CityTraffic;
  durationS: number;
  /** Most unacknowledged publishes. Default 1000. */
  maxInFlight?: number;
  onProgress?: (p: PublishProgress) => void;
  signal?: AbortSignal;
}

export async function publishTraffic(options: PublishOptions): Promise<PublishProgress> {
  const { client, traffic } = options;
  const maxInFlight = options.maxInFlight ?? 1000;
  const started = Date.now();
  const totalUplinks = Math.max(1, Math.round(traffic.rate * options.durationS));
  let inFlight = 0;
  let wake: (() => void) | null = null;
  const progress: PublishProgress = { uplinks: 0, messages: 0, errors: 0, elapsedS: 0, ratePerS: 0 };
  const report = setInterval(() => {
    progress.elapsedS = (Date.now() - started) / 1000;
    progress.ratePerS = progress.uplinks / Math.max(progress.elapsedS, 0.001);
    options.onProgress?.({ ...progress });
  }, 1000);
  try {
    for (let i = 0; i < totalUplinks && !options.signal?.aborted; i++) {
      const up = traffic.next();
      // Pace by the simulated clock: uplink i is due at i / rate seconds.
      const dueMs = (i * 1000) / traffic.rate - (Date.now() - started);
      if (dueMs > 2) await new Promise((r) => setTimeout(r, dueMs));
      for (const message of up.messages) {
        if (message.delayMs > 0 && traffic.rate < 200) await new Promise((r) => setTimeout(r, message.delayMs));
        while (inFlight >= maxInFlight) await new Promise<void>((r) => (wake = r));
        inFlight++;
        client.publish(message.topic, message.payload, { qos: 1 }, (error) => {
          inFlight--;
          if (error) progress.errors++;
          else progress.messages++;
          const w = wake;
          wake = null;
          w?.();
        });
      }
      progress.uplinks++;
    }
    while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  } finally {
    clearInterval(report);
  }
  progress.elapsedS = (Date.now() - started) / 1000;
  progress.ratePerS = progress.uplinks / Math.max(progress.elapsedS, 0.001);
  return progress;
}
