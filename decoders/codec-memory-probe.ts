/**
 * Child process for codec-runner.test.ts: one CodecRunner as the service holds it, a
 * warm worker, then a codec that allocates without end. Prints RSS before, at its peak
 * (sampled every 2 ms) and after, in MB, as one JSON line.
 */
import { CodecRunner } from './codec-runner.js';
import { DEFAULT_CODEC_LIMITS } from './codec-sandbox.js';

const mb = () => process.memoryUsage().rss / 1_048_576;
const input = () => ({ bytes: Uint8Array.from([1]), fPort: 1, recvTime: new Date() });
const runner = new CodecRunner({ ...DEFAULT_CODEC_LIMITS, timeoutMs: 2000 });
const good = 'function decodeUplink(input) { return { data: { n: input.bytes.length } }; }';
for (let i = 0; i < 200; i++) await runner.decode(good, input());
global.gc?.();
await new Promise((r) => setTimeout(r, 200));
const rssBeforeMb = mb();
let rssPeakMb = rssBeforeMb;
const sampler = setInterval(() => (rssPeakMb = Math.max(rssPeakMb, mb())), 2);
const started = Date.now();
const out = await runner.decode('function decodeUplink() { const a = []; for (;;) a.push(new Uint8Array(1 << 20)); }', input());
const tookMs = Date.now() - started;
// The poisoned worker is replaced; let the old one go and the new one come up.
for (let i = 0; i < 200; i++) await runner.decode(good, input());
await new Promise((r) => setTimeout(r, 300));
clearInterval(sampler);
// Garbage of the 200 decodes above is not the bomb's: collected before both readings.
// The least of five readings: the allocator returns freed pages to the system in its own time.
let rssAfterMb = Infinity;
for (let i = 0; i < 5; i++) {
  global.gc?.();
  await new Promise((r) => setTimeout(r, 100));
  rssAfterMb = Math.min(rssAfterMb, mb());
}
await runner.close();
console.log(JSON.stringify({ error: out.ok ? null : out.error, tookMs, rssBeforeMb, rssPeakMb, rssAfterMb }));
