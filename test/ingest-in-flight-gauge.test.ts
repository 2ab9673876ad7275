/**
 * The in-flight gauge (stadtfunk_ingest_in_flight_messages) tells the truth when ingest is
 * idle (issue 26, item 7): it was set only when a message arrived, so it kept the count of
 * that moment (32–108 seen) after every message had long been acknowledged.
 */
import { describe, expect, it } from 'vitest';
import { createApiKey } from '../api/auth.js';
import { eventually, useTestService } from './helpers.js';
import { registerLppDevices } from './ingest-process.js';

const DEVICES = 20;
const BASE = 0x1a2b000000;

const run = useTestService({}, async (db) => {
  await registerLppDevices(db.pool, DEVICES, BASE);
});

describe('the in-flight gauge', () => {
  it('returns to 0 once a burst of messages is stored and acknowledged', async () => {
    const key = (await createApiKey(run.db.pool, 'gauge', 'admin')).key;
    const devEui = (i: number): string => (BASE + i).toString(16).padStart(16, '0');
    const messages = 2_000;
    const prefix = run.config.ingest.chirpstackPrefix!;
    const payload = Buffer.from('0367011005670040', 'hex').toString('base64'); // LPP: 27.2 °C, 32 %
    // A burst: up to 200 unacknowledged by the broker at once.
    const pending = new Set<Promise<unknown>>();
    for (let i = 0; i < messages; i++) {
      const d = devEui(i % DEVICES);
      const event = { deduplicationId: `gauge-${i}`, time: new Date(Date.UTC(2026, 10, 24, 0, 0, 0, i)).toISOString(), deviceInfo: { devEui: d }, fCnt: Math.floor(i / DEVICES), fPort: 1, data: payload };
      const p: Promise<unknown> = run.publisher.publishAsync(`${prefix}/app/device/${d}/event/up`, JSON.stringify(event), { qos: 1 }).then(() => pending.delete(p));
      pending.add(p);
      if (pending.size >= 200) await Promise.race(pending);
    }
    await Promise.all(pending);
    // Ignored events and dead letters are acknowledged with their batch as well.
    for (let i = 0; i < 100; i++) {
      await run.publisher.publishAsync(`${prefix}/app/device/${devEui(i % DEVICES)}/event/${i % 2 ? 'join' : 'bogus'}`, JSON.stringify({ n: i }), { qos: 1 });
    }
    await eventually(async () => {
      const n = (await run.db.pool.query<{ n: number }>("select count(*)::int as n from uplinks where id like 'gauge-%'")).rows[0]!.n;
      const letters = (await run.db.pool.query<{ n: number }>("select count(*)::int as n from dead_letters where reason = 'unknown_event'")).rows[0]!.n;
      return n === messages && letters === 50 ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 100 });
    const gauge = async (): Promise<number> => {
      const text = await (await fetch(`${run.service.httpUrl}/metrics`, { headers: { authorization: `Bearer ${key}` } })).text();
      const line = /^stadtfunk_ingest_in_flight_messages (\S+)$/m.exec(text);
      if (!line) throw new Error('no stadtfunk_ingest_in_flight_messages in /metrics');
      return Number(line[1]);
    };
    // The last PUBACKs leave right after the last commit: wait for them, not for a new message.
    await eventually(async () => ((await gauge()) === 0 ? true : undefined), { timeoutMs: 10_000, intervalMs: 100 });
    expect(run.service.ingest.inFlight()).toBe(0);
  });
});
