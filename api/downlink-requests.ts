/**
 * What the API does to queue an application downlink: find the device and how it is
 * reached, turn an object into bytes with the device model's encoder (the built-in one,
 * or the vendor codec's TS013 `encodeDownlink` in the codec worker), check the FPort and
 * the size the device's band and data rate allow, and queue it. The radio side
 * (ingest) sends it; the API never touches counters or keys.
 */
import type pg from 'pg';
import { CodecRunner, DEFAULT_CODEC_LIMITS, encodeDownlink } from '../decoders/index.js';
import { dataRateIndex, maxPayloadBytes, rx1DataRate, type RegionParameters } from '../ingest/lorawan/index.js';
import type { LorawanConfig } from '../lorawan-config.js';
import { insertQueueItems, selectDeviceModel, selectDownlinkTarget, type DownlinkTarget, type QueueItemRow } from '../storage/index.js';
import { HttpError, notFound } from './errors.js';

/** Time limit of one encodeDownlink call, ms. */
const ENCODE_TIMEOUT_MS = 1000;
/** LoRaWAN's largest FRMPayload in any region (M 250 − 8). */
const MAX_ANY_REGION = 242;

export interface DownlinkRequest {
  fPort?: number;
  /** Bytes as base64, or as hex in `hex`, or an object for the model's encoder. */
  data?: string;
  hex?: string;
  object?: Record<string, unknown>;
  confirmed?: boolean;
}

export class DownlinkRequests {
  private runner: CodecRunner | null = null;

  constructor(private readonly pool: pg.Pool, private readonly lorawan: Readonly<LorawanConfig> | null) {}

  /** Validates, encodes and queues; throws HttpError (4xx) naming what is wrong. */
  async queue(devEui: string, request: DownlinkRequest, requestedBy: string): Promise<QueueItemRow> {
    const target = await selectDownlinkTarget(this.pool, devEui);
    if (!target) throw notFound(`device ${devEui}`);
    if (target.decommissioned) throw new HttpError(409, 'STADTFUNK_ERR_DECOMMISSIONED', `devEui: device ${devEui} is decommissioned`);
    const route = target.route ?? (target.hasSession ? 'concentrator' : null);
    if (!route) throw new HttpError(409, 'STADTFUNK_ERR_NO_DOWNLINK_PATH', `devEui: no way to reach device ${devEui} yet: it has no session keys and no uplink came through ChirpStack or The Things Stack`);
    const { bytes, fPort } = await this.bytesOf(target, request);
    if (fPort === null) throw badFPort('fPort: give one (1–223); the encoder chose none');
    if (!Number.isInteger(fPort) || fPort < 1 || fPort > 223) throw badFPort(`fPort: ${fPort} is not an application port (1–223; 0 is for MAC commands, 224–255 are reserved)`);
    const limit = route === 'concentrator' ? this.limitFor(target) : { bytes: MAX_ANY_REGION, why: 'LoRaWAN' };
    if (bytes.length > limit.bytes) {
      throw new HttpError(400, 'STADTFUNK_ERR_TOO_LONG', `data: ${bytes.length} bytes are more than the ${limit.bytes} bytes ${limit.why} can carry`);
    }
    const [item] = await insertQueueItems(this.pool, [{
      devEui, fPort, payload: bytes, confirmed: request.confirmed ?? false, object: request.object ?? null,
      route, routeTopic: route === 'concentrator' ? null : target.topic, requestedBy,
    }]);
    return item!;
  }

  async close(): Promise<void> {
    await this.runner?.close();
  }

  private async bytesOf(target: DownlinkTarget, request: DownlinkRequest): Promise<{ bytes: Buffer; fPort: number | null }> {
    const given = [request.data !== undefined, request.hex !== undefined, request.object !== undefined].filter(Boolean).length;
    if (given !== 1) throw new HttpError(400, 'STADTFUNK_ERR_BAD_REQUEST', 'data: give exactly one of data (base64), hex or object');
    if (request.data !== undefined) return { bytes: Buffer.from(request.data, 'base64'), fPort: request.fPort ?? null };
    if (request.hex !== undefined) return { bytes: Buffer.from(request.hex, 'hex'), fPort: request.fPort ?? null };
    const model = await selectDeviceModel(this.pool, target.modelId);
    if (!model) throw notFound(`device model ${target.modelId}`);
    const decoder = model.decoderKind === 'builtin' ? { kind: 'builtin' as const, name: model.builtinName ?? '' } : { kind: 'codec' as const, script: model.codecScript ?? '' };
    // An operator's request, not the ingest path: a codec may take a second (the worker and
    // the codec are loaded on first use), still in the worker under its watchdog.
    this.runner ??= new CodecRunner({ ...DEFAULT_CODEC_LIMITS, timeoutMs: ENCODE_TIMEOUT_MS });
    const out = await encodeDownlink(decoder, request.object!, this.runner, request.fPort);
    if (!out.ok) throw new HttpError(422, 'STADTFUNK_ERR_ENCODE', `object: the device model ${model.id} could not encode it: ${out.errors.join('; ')}`);
    return { bytes: out.bytes, fPort: request.fPort ?? out.fPort };
  }

  /**
   * The most a downlink to this device can carry: what RX1 after its last uplink or RX2
   * allows in its band; before any uplink, the largest of any band configured.
   */
  private limitFor(target: DownlinkTarget): { bytes: number; why: string } {
    const region: RegionParameters | undefined = target.lastBand ? this.lorawan?.regions[target.lastBand] : undefined;
    if (!region) {
      const largest = Math.max(0, ...Object.values(this.lorawan?.regions ?? {}).flatMap((r) => r.maxPayloadBytes));
      return { bytes: largest || MAX_ANY_REGION, why: 'any configured band' };
    }
    const upDr = dataRateIndex(region, target.lastSpreadingFactor, target.lastBandwidthHz);
    const rx1 = upDr === null ? 0 : maxPayloadBytes(region, rx1DataRate(region, upDr));
    const rx2 = maxPayloadBytes(region, region.rx2DataRate);
    return rx1 >= rx2
      ? { bytes: rx1, why: `RX1 (DR${rx1DataRate(region, upDr!)}, after its last uplink at SF${target.lastSpreadingFactor}) in ${region.name}` }
      : { bytes: rx2, why: `RX2 (DR${region.rx2DataRate}) in ${region.name}` };
  }
}

function badFPort(message: string): HttpError {
  return new HttpError(400, 'STADTFUNK_ERR_BAD_FPORT', message);
}
