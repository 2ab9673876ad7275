/**
 * Bounds checks for google-protobuf, which @chirpstack/chirpstack-api's generated classes
 * decode with. google-protobuf trusts length prefixes: a string field whose length runs
 * past the end of the message is read one (missing) byte at a time up to the claimed end,
 * so a 6-byte message claiming a 4 GB string blocked the event loop for 71 s here (found
 * by the malformed-message test: `0a ff ff ff ff 0f` as integration.UplinkEvent).
 * Every reader method that takes a length prefix first checks it against the bytes that
 * are there and throws instead, which the decoders turn into `invalid_protobuf`.
 *
 * Imported for its effect by every module that decodes with google-protobuf.
 */
import jspb from 'google-protobuf';

interface ReaderInternals {
  getCursor(): number;
  getBuffer(): Uint8Array;
}

/** The varint length prefix at `cursor`: its value and where the field's bytes start. */
function lengthAt(buffer: Uint8Array, cursor: number): { length: number; start: number } {
  let length = 0;
  let shift = 0;
  for (let i = cursor; i < buffer.length && shift < 35; i++, shift += 7) {
    const byte = buffer[i]!;
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return { length, start: i + 1 };
  }
  throw new Error('length prefix runs past the end of the message');
}

const proto = jspb.BinaryReader.prototype as unknown as Record<string, unknown>;
const guarded = Object.getOwnPropertyNames(proto).filter((name) => name === 'readString' || name === 'readBytes' || name === 'readMessage' || name.startsWith('readPacked'));
for (const name of guarded) {
  const original = proto[name] as (...args: unknown[]) => unknown;
  if ((original as { guarded?: boolean }).guarded) continue;
  const checked = function (this: ReaderInternals, ...args: unknown[]): unknown {
    const buffer = this.getBuffer();
    const { length, start } = lengthAt(buffer, this.getCursor());
    if (start + length > buffer.length) {
      throw new Error(`a length-delimited field of ${length} bytes runs past the end of the ${buffer.length}-byte message`);
    }
    return original.apply(this, args);
  };
  (checked as { guarded?: boolean }).guarded = true;
  proto[name] = checked;
}
