/**
 * An ordered stop on SIGTERM with DATABASE_URL and MQTT_URL set, while uplinks arrive:
 * the service stops taking messages, commits and acknowledges what it took, closes its
 * connections and exits 0. The next start takes the rest; every uplink is stored once.
 * Needs a broker that keeps the session between the two runs: a private Mosquitto.
 */
import { describe, expect, it } from 'vitest';
import { freePort } from './global-setup.js';
import { eventually, uniqueName } from './helpers.js';
import { healthy, publishUplinks, useIngestProcesses, warnings } from './ingest-process.js';
import { mosquittoAvailable } from './mosquitto.js';

const MESSAGES = 20_000;
const DEVICES = 50;
const hasMosquitto = mosquittoAvailable();
if (!hasMosquitto) console.warn('SKIPPED shutdown test: no mosquitto binary on this machine (it needs a broker that keeps the session between two runs)');

describe.skipIf(!hasMosquitto)('SIGTERM in the middle of traffic, external database and broker', () => {
  const ingest = useIngestProcesses(DEVICES, 0xb0000000);

  it('commits what it took, exits 0, and the next start stores the rest once', async () => {
    const prefix = `${uniqueName('t')}/application`;
    const clientId = uniqueName('ingest-');
    const httpPort = await freePort();
    const first = ingest.start({ clientId, prefix, httpPort, logLevel: 'info' });
    await healthy(httpPort);
    const published = publishUplinks({ mqttUrl: ingest.broker.url, prefix, messages: MESSAGES, devices: DEVICES, devEui: ingest.devEui, idPrefix: 'stop' });

    await eventually(async () => ((await ingest.count()) >= 500 ? true : undefined), { timeoutMs: 60_000, intervalMs: 20 });
    const stopAsked = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exited, first.output()).toBe(0);
    expect(Date.now() - stopAsked).toBeLessThan(10_000);
    expect(first.output()).toContain('stopped cleanly');
    expect(warnings(first.output())).toEqual([]);
    expect(await ingest.count()).toBeLessThan(MESSAGES);

    const second = ingest.start({ clientId, prefix, httpPort, logLevel: 'info' });
    await healthy(httpPort);
    expect(await published).toBe(MESSAGES);
    await eventually(async () => ((await ingest.count()) >= MESSAGES ? true : undefined), { timeoutMs: 120_000, intervalMs: 100 });
    const r = await ingest.db.pool.query<{ n: number; distinct_ids: number }>('select count(*)::int as n, count(distinct id)::int as distinct_ids from uplinks');
    expect(r.rows[0]).toEqual({ n: MESSAGES, distinct_ids: MESSAGES });
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).toBe(0);
  }, 240_000);
});
