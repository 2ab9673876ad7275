/**
 * The decoders stage: a device model's bytes → Readings.
 * Built-in decoders are looked up by name; vendor codecs run sandboxed.
 */
import { decodeCayenneLpp } from './cayenne-lpp.js';
import { DEFAULT_CODEC_LIMITS } from './codec-sandbox.js';
import { CodecRunner } from './codec-runner.js';
import { normalize } from './normalize.js';
import { decodeAir } from './stadtfunk-air.js';
import { decodeParking } from './stadtfunk-parking.js';
import { decodeStreetlight } from './stadtfunk-streetlight.js';
import { decodeTraffic } from './stadtfunk-traffic.js';
import { decodeWater } from './stadtfunk-water.js';
import type { DecodeInput, DecodeResult, DeviceModel } from './types.js';

export type { DecodeInput, DecodeResult, DeviceModel, FieldMapping, Reading, Quality, DecoderSpec } from './types.js';
export { catalog, getMetric, makeReading, qualityOf, type Metric, type MetricCategory } from './catalog.js';
export { encodeAir, type AirValues } from './stadtfunk-air.js';
export { encodeParking, type ParkingValues } from './stadtfunk-parking.js';
export { encodeStreetlight, type StreetlightValues } from './stadtfunk-streetlight.js';
export { encodeTraffic, VEHICLE_CLASSES, type TrafficValues, type TrafficCount, type VehicleClass } from './stadtfunk-traffic.js';
export { encodeWater, type WaterValues } from './stadtfunk-water.js';

type BuiltinDecoder = (bytes: Uint8Array, recvTime: Date, fPort: number) => DecodeResult;

const builtins: Record<string, BuiltinDecoder> = {
  'cayenne-lpp': (bytes, recvTime) => decodeCayenneLpp(bytes, recvTime),
  'stadtfunk-air': (bytes, recvTime) => decodeAir(bytes, recvTime),
  'stadtfunk-parking': (bytes, recvTime) => decodeParking(bytes, recvTime),
  'stadtfunk-traffic': (bytes, recvTime) => decodeTraffic(bytes, recvTime),
  'stadtfunk-streetlight': (bytes, recvTime) => decodeStreetlight(bytes, recvTime),
  'stadtfunk-water': (bytes, recvTime) => decodeWater(bytes, recvTime),
};

export const builtinDecoderNames = (): string[] => Object.keys(builtins);

export interface Decoders {
  /** Built-in decoders answer at once; vendor codecs run in a worker thread and answer with a promise. */
  decode(model: DeviceModel, input: DecodeInput): DecodeResult | Promise<DecodeResult>;
  close(): void;
}

export interface DecodersOptions {
  /** Time limit per codec call. Default 100 ms (as ChirpStack). */
  codecTimeoutMs?: number;
  /** Memory limit per codec runtime. Default 16 MiB. */
  codecMemoryBytes?: number;
}

export { CodecSandbox, loadQuickJS, DEFAULT_CODEC_LIMITS, type CodecOutcome } from './codec-sandbox.js';
export { CodecRunner } from './codec-runner.js';
export { encodeDownlink, canEncodeDownlink, type EncodeOutcome } from './encode-downlink.js';
export { encodeStreetlightCommand, decodeStreetlightCommand, STREETLIGHT_FPORT, type StreetlightCommand } from './stadtfunk-streetlight-command.js';
export { normalize } from './normalize.js';
export { checkExamples, loadCodecYaml, runCodecExamples, type CodecExample, type ExampleResult } from './codec-examples.js';
export { codecTestCommand } from './codec-test-command.js';

/** Built-in decoders and vendor codecs (sandboxed in QuickJS, in a worker thread with a watchdog). */
export async function createDecoders(options: DecodersOptions = {}): Promise<Decoders> {
  const runner = new CodecRunner({
    ...DEFAULT_CODEC_LIMITS,
    ...(options.codecTimeoutMs ? { timeoutMs: options.codecTimeoutMs } : {}),
    ...(options.codecMemoryBytes ? { memoryBytes: options.codecMemoryBytes } : {}),
  });
  return {
    decode(model, input) {
      if (model.decoder.kind === 'builtin') {
        const decoder = builtins[model.decoder.name];
        if (!decoder) return { readings: [], decoded: {}, warnings: [], errors: [`unknown built-in decoder "${model.decoder.name}"`] };
        return decoder(input.bytes, input.recvTime, input.fPort);
      }
      return runner.decode(model.decoder.script, input).then((out): DecodeResult => {
        if (!out.ok) return { readings: [], decoded: {}, warnings: [], errors: [out.error] };
        if (out.errors.length > 0) return { readings: [], decoded: {}, warnings: out.warnings, errors: out.errors };
        const normalized = normalize(out.data, model.mapping, input.recvTime);
        return { readings: normalized.readings, decoded: out.data, warnings: [...out.warnings, ...normalized.warnings], errors: [] };
      });
    },
    close: () => void runner.close(),
  };
}
