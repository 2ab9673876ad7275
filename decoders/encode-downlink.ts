/**
 * An object an operator sends a device, encoded into bytes by the device model: a
 * built-in encoder for the stadtfunk reference formats, or the vendor codec's LoRa
 * Alliance TS013 `encodeDownlink({ data })` → `{ bytes, fPort, warnings, errors }`.
 *
 * Vendor codecs run through the codec runner (a worker thread with a watchdog,
 * codec-runner.ts) by its public `decode` call: the codec script is given a last
 * `decodeUplink` that calls its `encodeDownlink` with the object the input bytes carry
 * (JSON, ASCII-escaped), so the sandbox needs no second entry point. A later function
 * declaration of the same name wins in JavaScript, whatever decodeUplink the codec has.
 */
import type { CodecRunner } from './codec-runner.js';
import { encodeStreetlightCommand } from './stadtfunk-streetlight-command.js';
import type { DecoderSpec } from './types.js';

export type EncodeOutcome =
  | { ok: true; bytes: Buffer; fPort: number | null; warnings: string[] }
  | { ok: false; errors: string[] };

const BUILTIN_ENCODERS: Record<string, (object: Record<string, unknown>) => { bytes: Buffer; fPort: number } | { errors: string[] }> = {
  'stadtfunk-streetlight': encodeStreetlightCommand,
};

const ENCODE_SHIM = `
function decodeUplink(input) {
  var request = JSON.parse(String.fromCharCode.apply(null, input.bytes));
  if (typeof encodeDownlink !== 'function') return { errors: ['the codec defines no encodeDownlink(input) function'] };
  var out = encodeDownlink({ data: request.data, fPort: request.fPort });
  if (!out || typeof out !== 'object') return { errors: ['encodeDownlink must return an object { bytes, fPort, warnings, errors }'] };
  if (out.errors && out.errors.length) return { errors: out.errors };
  return { data: { bytes: out.bytes, fPort: out.fPort === undefined ? null : out.fPort }, warnings: out.warnings || [] };
}
`;

/** Whether the model can encode objects at all. */
export function canEncodeDownlink(decoder: DecoderSpec): boolean {
  return decoder.kind === 'codec' || BUILTIN_ENCODERS[decoder.name] !== undefined;
}

export async function encodeDownlink(decoder: DecoderSpec, object: Record<string, unknown>, runner: CodecRunner, fPort?: number): Promise<EncodeOutcome> {
  if (decoder.kind === 'builtin') {
    const encode = BUILTIN_ENCODERS[decoder.name];
    if (!encode) return { ok: false, errors: [`the built-in format ${decoder.name} takes no downlink objects; send bytes`] };
    const out = encode(object);
    return 'errors' in out ? { ok: false, errors: out.errors } : { ok: true, bytes: out.bytes, fPort: out.fPort, warnings: [] };
  }
  // ASCII only, so the codec can read the bytes back with String.fromCharCode.
  const request = JSON.stringify({ data: object, fPort: fPort ?? null }).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const outcome = await runner.decode(`${decoder.script}\n${ENCODE_SHIM}`, { bytes: Buffer.from(request, 'ascii'), fPort: fPort ?? 1, recvTime: new Date() });
  if (!outcome.ok) return { ok: false, errors: [outcome.error] };
  if (outcome.errors.length > 0) return { ok: false, errors: outcome.errors };
  const bytes = outcome.data.bytes;
  if (!Array.isArray(bytes) || !bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return { ok: false, errors: ['encodeDownlink returned no byte array (bytes: integers 0–255)'] };
  const port = outcome.data.fPort;
  return { ok: true, bytes: Buffer.from(bytes as number[]), fPort: typeof port === 'number' ? port : null, warnings: outcome.warnings };
}
