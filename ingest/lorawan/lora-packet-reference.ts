/**
 * lora-packet (a separate, widely used implementation) as the reference that tests
 * and the crypto benchmark compare against.
 *
 * Its CommonJS entry sets both `exports.default` and then `module.exports` to the same
 * object, so Node's ESM loader yields the API itself as the default import while its
 * typings (and some bundler interop) put it under `.default`. This picks whichever is
 * there.
 */
import loraPacketModule from 'lora-packet';

export type LoraPacketApi = typeof loraPacketModule.default;

function resolve(): LoraPacketApi {
  const candidate: unknown = loraPacketModule;
  if (typeof candidate === 'object' && candidate !== null && 'fromWire' in candidate) return candidate as LoraPacketApi;
  return loraPacketModule.default;
}

export const loraPacket: LoraPacketApi = resolve();
