/**
 * Does the MQTT broker answer? One connection with a client id of its own (not ingest's:
 * that would take over its persistent session) and a clean session, closed at once.
 */
import mqtt from 'mqtt';
import type { ProbeResult } from '../storage/index.js';

export interface BrokerProbeOptions {
  url: string;
  /** Ingest's client id; the probe uses `{clientId}-probe`. */
  clientId: string;
  protocolVersion: 4 | 5;
  username?: string | null;
  password?: string | null;
  /** Default 5,000 ms. */
  timeoutMs?: number;
}

/**
 * A CONNACK that refuses us (bad credentials, not authorised, client id rejected) is
 * `fatal`: waiting does not mend it. A broker not listening yet, or a name that does not
 * resolve yet, may pass.
 */
export async function probeBroker(options: BrokerProbeOptions): Promise<ProbeResult> {
  const client = mqtt.connect(options.url, {
    clientId: `${options.clientId}-probe`,
    clean: true,
    protocolVersion: options.protocolVersion,
    reconnectPeriod: 0,
    connectTimeout: options.timeoutMs ?? 5_000,
    ...(options.username ? { username: options.username } : {}),
    ...(options.password ? { password: options.password } : {}),
  });
  try {
    return await new Promise<ProbeResult>((resolve) => {
      client.once('connect', () => resolve({ ok: true }));
      client.once('error', (error) => {
        // mqtt.js gives a refused CONNACK its reason code as a number, socket errors a string code.
        const fatal = typeof (error as { code?: unknown }).code === 'number';
        resolve({ ok: false, reason: error.message || String(error), fatal });
      });
      // No error event when the connect times out or the socket just closes.
      client.once('close', () => resolve({ ok: false, reason: 'the connection closed before the broker answered', fatal: false }));
    });
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}
