/**
 * The decoders stage: a device model's bytes → Readings.
 * Built-in decoders are looked up by name; vendor codecs run sandboxed.
 */
import { decodeCayenneLpp } from './cayenne-lpp.js';
import { DEFAULT_CODEC_LIMITS } from './codec-sandbox.js';
import { CodecPool, defaultCodecWorkers } from './codec-pool.js';
import { normalize } from './normalize.js';
import { normalizedReadings } from './normalized-payload.js';
import { decodeAir } from './stadtfunk-air.js';
import { decodeParking } from './stadtfunk-parking.js';
import { decodeStreetlight } from './stadtfunk-streetlight.js';
import { decodeTraffic } from './stadtfunk-traffic.js';
import { decodeWater } from './stadtfunk-water.js';
import type { DecodeInput, DecodeResult, DeviceModel } from './types.js';

export type { DecodeInput, DecodeResult, DeviceModel, FieldMapping, Reading, Quality, DecoderSpec, ModelCategory } from './types.js';
export { MODEL_CATEGORIES } from './types.js';
export { inferCategory, proposeForExamples, proposeMapping, type MappingProposal, type LeftField } from './builtin-mapping.js';
export { normalizedReadings } from './normalized-payload.js';
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
  /** How much the codec heap may grow in one call. Default 16 MiB. */
  codecMemoryBytes?: number;
  /** Codec worker threads (codec-pool.ts). Default 2 on a machine with two cores or more, else 1. */
  codecWorkers?: number;
}

export { CodecSandbox, DEFAULT_CODEC_LIMITS, type CodecOutcome, type CodecLimits } from './codec-sandbox.js';
export { CodecRunner } from './codec-runner.js';
export { CodecPool, defaultCodecWorkers } from './codec-pool.js';
export { loadGuardedQuickJS } from './codec-memory.js';
export { encodeDownlink, canEncodeDownlink, type EncodeOutcome } from './encode-downlink.js';
export { encodeStreetlightCommand, decodeStreetlightCommand, STREETLIGHT_FPORT, type StreetlightCommand } from './stadtfunk-streetlight-command.js';
export { normalize } from './normalize.js';
export { checkExamples, loadCodecYaml, runCodecExamples, type CodecExample, type ExampleResult, type RunCodec } from './codec-examples.js';
export { codecTestCommand } from './codec-test-command.js';

/**
 * A model's own mapping decides alone. Without one, the codec's normalized payload
 * (TS013 normalizeUplink) gives what it has, and the built-in mapping the rest: a metric
 * the normalized payload gives is not taken from the vendor fields as well.
 */
export function readingsOf(model: DeviceModel, data: Record<string, unknown>, normalized: unknown, recvTime: Date, codecWarnings: string[] = []): DecodeResult {
  if (model.mapping && model.mapping.length > 0) {
    const mapped = normalize(data, model.mapping, recvTime, model.category ?? null);
    return { readings: mapped.readings, decoded: data, warnings: [...codecWarnings, ...mapped.warnings], errors: [] };
  }
  const fromNormalized = normalized === undefined ? { readings: [], warnings: [] } : normalizedReadings(normalized, recvTime);
  const given = new Set(fromNormalized.readings.map((r) => r.metric));
  const mapped = normalize(data, undefined, recvTime, model.category ?? null);
  return {
    readings: [...fromNormalized.readings, ...mapped.readings.filter((r) => !given.has(r.metric))],
    decoded: data,
    warnings: [...codecWarnings, ...fromNormalized.warnings, ...mapped.warnings],
    errors: [],
  };
}

/** Built-in decoders and vendor codecs (sandboxed in QuickJS, in worker threads with a watchdog each). */
export async function createDecoders(options: DecodersOptions = {}): Promise<Decoders> {
  const runner = new CodecPool(
    {
      ...DEFAULT_CODEC_LIMITS,
      ...(options.codecTimeoutMs ? { timeoutMs: options.codecTimeoutMs } : {}),
      ...(options.codecMemoryBytes ? { memoryBytes: options.codecMemoryBytes } : {}),
    },
    { workers: options.codecWorkers ?? defaultCodecWorkers() },
  );
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
        return readingsOf(model, out.data, out.normalized, input.recvTime, out.warnings);
      });
    },
    close: () => void runner.close(),
  };
}
