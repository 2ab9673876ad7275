/**
 * Crypto cost of one raw concentrator frame: parse + MIC check with the full 32-bit
 * counter + FRMPayload decryption, in frames per second, for lora-packet (baseline)
 * and stadtfunk's node:crypto implementation (ingest/lorawan), measured in the same run
 * on the same frames.
 *
 *   npx tsx bench/frames-crypto.ts [--duration-ms=4000] [--json=var/bench/frames-crypto.json]
 *
 * The two implementations take turns in short rounds so that CPU frequency changes and
 * GC hit both alike. Each is checked to decrypt every frame correctly before timing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildUplinkFrame, decryptUplinkPayload, parsePhyPayload, verifyUplinkMic } from '../ingest/lorawan/index.js';
import { loraPacket } from '../ingest/lorawan/lora-packet-reference.js';

export interface FramesCryptoBenchOptions {
  /** Measuring time per implementation, ms. Default 4000. */
  durationMs?: number;
  /** Where to write the result as JSON; not written when absent. */
  json?: string;
}

export interface FramesCryptoBenchResult {
  cryptoFramesPerSecond: { lorapacket: number; nodeCrypto: number };
  parameters: { durationMs: number; frames: number; payloadBytes: number; rounds: number; node: string };
}

const FRAME_COUNT = 64;
/** A typical city sensor payload (parking, lamp, level): a dozen bytes. */
const PAYLOAD_BYTES = 12;
const ROUNDS = 8;
const WARM_UP_MS = 300;

interface BenchFrame {
  bytes: Buffer;
  fCnt32: number;
  plaintext: Buffer;
}

type Implementation = (frame: BenchFrame) => Buffer;

const nwkSKey = Buffer.from('44024241ed4ce9a68c6a8bc055233fd3', 'hex');
const appSKey = Buffer.from('ec925802ae430ca77fd3dd73cb2cc588', 'hex');

function makeFrames(): BenchFrame[] {
  return Array.from({ length: FRAME_COUNT }, (_, i) => {
    // Counters past 65 535, so both sides must use the counter's upper 16 bits.
    const fCnt32 = 70_000 + i * 7;
    const plaintext = Buffer.alloc(PAYLOAD_BYTES, i);
    const devAddr = (0x26011000 + i).toString(16).padStart(8, '0');
    return { bytes: buildUplinkFrame({ devAddr, fCnt32, fPort: 2, payload: plaintext, nwkSKey, appSKey }), fCnt32, plaintext };
  });
}

const viaLoraPacket: Implementation = (frame) => {
  const upper = Buffer.alloc(2);
  upper.writeUInt16LE(frame.fCnt32 >>> 16);
  const packet = loraPacket.fromWire(frame.bytes);
  if (!loraPacket.verifyMIC(packet, nwkSKey, undefined, upper)) throw new Error('lora-packet: MIC mismatch');
  return loraPacket.decrypt(packet, appSKey, nwkSKey, upper);
};

const viaNodeCrypto: Implementation = (frame) => {
  const parsed = parsePhyPayload(frame.bytes);
  if (!parsed.ok) throw new Error(`node:crypto: ${parsed.detail}`);
  if (!verifyUplinkMic(parsed.frame, nwkSKey, frame.fCnt32)) throw new Error('node:crypto: MIC mismatch');
  return decryptUplinkPayload(appSKey, parsed.frame.frmPayload, parsed.frame.devAddrWire, frame.fCnt32);
};

/** Runs `impl` over the frames for about `ms`; returns frames done and time taken. */
function runFor(impl: Implementation, frames: BenchFrame[], ms: number): { frames: number; elapsedMs: number } {
  const start = performance.now();
  let done = 0;
  let elapsed = 0;
  do {
    for (const frame of frames) impl(frame);
    done += frames.length;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return { frames: done, elapsedMs: elapsed };
}

export async function framesCryptoBench(opts: FramesCryptoBenchOptions = {}): Promise<FramesCryptoBenchResult> {
  const durationMs = opts.durationMs ?? 4_000;
  const frames = makeFrames();
  const implementations: [keyof FramesCryptoBenchResult['cryptoFramesPerSecond'], Implementation][] = [
    ['lorapacket', viaLoraPacket],
    ['nodeCrypto', viaNodeCrypto],
  ];
  for (const [name, impl] of implementations) {
    for (const frame of frames) {
      if (!impl(frame).equals(frame.plaintext)) throw new Error(`${name} decrypted a frame wrongly`);
    }
    runFor(impl, frames, WARM_UP_MS);
  }

  const totals = { lorapacket: { frames: 0, elapsedMs: 0 }, nodeCrypto: { frames: 0, elapsedMs: 0 } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, impl] of round % 2 === 0 ? implementations : [...implementations].reverse()) {
      const r = runFor(impl, frames, durationMs / ROUNDS);
      totals[name].frames += r.frames;
      totals[name].elapsedMs += r.elapsedMs;
    }
  }
  const perSecond = (t: { frames: number; elapsedMs: number }) => Math.round((t.frames / t.elapsedMs) * 1000);
  const result: FramesCryptoBenchResult = {
    cryptoFramesPerSecond: { lorapacket: perSecond(totals.lorapacket), nodeCrypto: perSecond(totals.nodeCrypto) },
    parameters: { durationMs, frames: FRAME_COUNT, payloadBytes: PAYLOAD_BYTES, rounds: ROUNDS, node: process.version },
  };

  const { lorapacket, nodeCrypto } = result.cryptoFramesPerSecond;
  console.log(`frames-crypto: parse + MIC (32-bit FCnt) + decrypt, ${FRAME_COUNT} frames of ${PAYLOAD_BYTES}-byte payload, ${durationMs} ms each, ${ROUNDS} alternating rounds, Node ${process.version}`);
  console.table({
    'lora-packet (baseline)': { 'frames/s': lorapacket, 'µs/frame': +(1e6 / lorapacket).toFixed(2), 'vs baseline': '1.00×' },
    'node:crypto (stadtfunk)': { 'frames/s': nodeCrypto, 'µs/frame': +(1e6 / nodeCrypto).toFixed(2), 'vs baseline': `${(nodeCrypto / lorapacket).toFixed(2)}×` },
  });

  if (opts.json) {
    await mkdir(dirname(opts.json), { recursive: true });
    await writeFile(opts.json, `${JSON.stringify(result, null, 2)}\n`);
  }
  return result;
}

function argValue(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const duration = argValue('duration-ms');
  const json = argValue('json');
  await framesCryptoBench({ ...(duration ? { durationMs: Number(duration) } : {}), ...(json ? { json } : {}) });
}
