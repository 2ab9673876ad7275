/**
 * Nothing lost, nothing doubled: an ingest process killed with SIGKILL in the middle
 * of 50,000 messages, then restarted, stores every message exactly once. Needs an
 * MQTT broker that keeps the session while ingest is dead: a private Mosquitto.
 */
import { describe, expect, it } from 'vitest';
import { freePort } from './global-setup.js';
import { eventually, uniqueName } from './helpers.js';
import { healthy, publishUplinks, useIngestProcesses } from './ingest-process.js';
import { mosquittoAvailable } from './mosquitto.js';

const MESSAGES = 50_000;
const DEVICES = 200;
const hasMosquitto = mosquittoAvailable();
if (!hasMosquitto) console.warn('SKIPPED ingest crash test: no mosquitto binary on this machine (it needs a broker that outlives the ingest process)');

describe.skipIf(!hasMosquitto)('ingest killed with SIGKILL mid-run', () => {
  const ingest = useIngestProcesses(DEVICES, 0xa0000000);

  it('stores every message exactly once', async () => {
    const prefix = `${uniqueName('t')}/application`;
    const clientId = uniqueName('ingest-');
    const httpPort = await freePort();
    const first = ingest.start({ clientId, prefix, httpPort, logLevel: 'warn' });
    await healthy(httpPort);
    const published = publishUplinks({ mqttUrl: ingest.broker.url, prefix, messages: MESSAGES, devices: DEVICES, devEui: ingest.devEui, idPrefix: 'crash' });

    // Kill the ingest once a fair share is committed, in the middle of the run.
    await eventually(async () => ((await ingest.count()) >= 10_000 ? true : undefined), { timeoutMs: 120_000, intervalMs: 100 });
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await ingest.count();
    expect(atKill).toBeLessThan(MESSAGES);

    ingest.start({ clientId, prefix, httpPort, logLevel: 'warn' });
    expect(await published).toBe(MESSAGES);
    await eventually(async () => ((await ingest.count()) >= MESSAGES ? true : undefined), { timeoutMs: 240_000, intervalMs: 250 });
    const r = await ingest.db.pool.query<{ n: number; distinct_ids: number; readings: number }>(
      `select count(*)::int as n, count(distinct id)::int as distinct_ids,
              (select count(*)::int from readings where metric = 'temperature') as readings from uplinks`);
    expect(r.rows[0]).toEqual({ n: MESSAGES, distinct_ids: MESSAGES, readings: MESSAGES * 2 });
  }, 400_000);
});

