/**
 * `gw.UplinkFrame` read straight from the protobuf wire format into a GatewayUplinkFrame.
 *
 * Design note. Concentrators send one such message per frame and per concentrator, so
 * this is the hottest decoder of the raw-frame path. Through google-protobuf's generated
 * classes and the protojson shape (bytes to base64 and back, times to text and back,
 * then a schema check) it was 7 % of the service's CPU in `bench frames`, with the
 * garbage on top. Here one pass over the bytes reads the fields stadtfunk uses, checks
 * them as the protojson schema in gateway-frame.ts checks the JSON encoding, skips the
 * rest, and leaves the rules every frame passes to uplink-frame-fields.ts (the same tests
 * run both encodings against one expected value).
 *
 * protobufjs's Reader checks every length prefix against the bytes that are there, so a
 * field claiming more bytes than the message holds fails at once (see protobuf-guard.ts
 * for what google-protobuf did with those).
 *
 * Field numbers: chirpstack/chirpstack api/proto/gw/gw.proto (UplinkFrame, UplinkTxInfo,
 * Modulation, LoraModulationInfo, UplinkRxInfo), google/protobuf/timestamp.proto.
 */
import protobuf from 'protobufjs/minimal.js';
import { timeProblem } from '../time.js';
import { GatewayFrameRejectReason } from './errors.js';
import type { GatewayDecodeResult, GatewayUplinkFrame } from './gateway-frame.js';
import { FRAME_LIMITS, rejected, uplinkFrameFrom } from './uplink-frame-fields.js';

const GATEWAY_ID = new RegExp(FRAME_LIMITS.gatewayIdPattern);
const { rssiDbm: RSSI, snrDb: SNR } = FRAME_LIMITS;

const VARINT = 0;
const FIXED32 = 5;
const LENGTH_DELIMITED = 2;

/** A message that decodes as protobuf but breaks a rule of gw.proto or of stadtfunk's checks. */
class InvalidField extends Error {}

type Reader = protobuf.Reader;

interface Tx {
  frequency: number;
  modulation: 'lora' | 'fsk' | 'lr_fhss' | null;
  bandwidth: number;
  spreadingFactor: number;
  codeRate: number | null;
}

interface Rx {
  gatewayId: string;
  uplinkId: number;
  gwTime: Date | null;
  nsTime: Date | null;
  rssi: number;
  snr: number;
  context: Buffer;
  metadata: Map<string, string>;
  crcStatus: number;
}

/** Decodes an `event/up` message in protobuf. */
export function decodeUplinkFrameWire(payload: Uint8Array): GatewayDecodeResult<GatewayUplinkFrame> {
  let phyPayload: Buffer | null = null;
  let tx: Tx | null = null;
  let rx: Rx | null = null;
  try {
    const r = protobuf.Reader.create(payload);
    while (r.pos < r.len) {
      const tag = r.uint32();
      const field = tag >>> 3;
      if (field === 1) phyPayload = Buffer.from(bytesOf(r, tag, 'phyPayload'));
      // An embedded message that appears twice is merged, as protobuf parsers do.
      else if (field === 4) tx = readTxInfo(subReader(r, tag, 'txInfo'), tx);
      else if (field === 5) rx = readRxInfo(subReader(r, tag, 'rxInfo'), rx);
      else r.skipType(tag & 7);
    }
  } catch (error) {
    if (error instanceof InvalidField) return rejected(GatewayFrameRejectReason.invalidMessage, `gw.UplinkFrame ${error.message}`);
    return rejected(GatewayFrameRejectReason.invalidProtobuf, `not a valid gw.UplinkFrame: ${(error as Error).message}`);
  }
  if (!rx) return rejected(GatewayFrameRejectReason.invalidMessage, 'gw.UplinkFrame /rxInfo: missing');
  if (!GATEWAY_ID.test(rx.gatewayId)) return rejected(GatewayFrameRejectReason.invalidMessage, `gw.UplinkFrame /rxInfo/gatewayId: "${rx.gatewayId.slice(0, 40)}" is not 16 hex digits`);
  return uplinkFrameFrom({
    phyPayload,
    gatewayId: rx.gatewayId,
    crcStatus: rx.crcStatus,
    uplinkId: rx.uplinkId,
    frequencyHz: tx?.frequency ?? 0,
    modulation: tx?.modulation ?? null,
    spreadingFactor: tx?.spreadingFactor ?? 0,
    bandwidthHz: tx?.bandwidth ?? 0,
    codeRate: tx?.codeRate ?? null,
    rssiDbm: rx.rssi,
    snrDb: rx.snr,
    gwTime: rx.gwTime,
    nsTime: rx.nsTime,
    context: rx.context,
    // fromEntries defines own properties: a key such as __proto__ stays a plain key.
    metadata: Object.fromEntries(rx.metadata),
  });
}

function expectWireType(tag: number, wireType: number, name: string): void {
  if ((tag & 7) !== wireType) throw new Error(`${name} has wire type ${tag & 7}, expected ${wireType}`);
}

function bytesOf(r: Reader, tag: number, name: string): Uint8Array {
  expectWireType(tag, LENGTH_DELIMITED, name);
  return r.bytes();
}

/** A reader over the embedded message at the cursor (its bytes are checked to be there). */
function subReader(r: Reader, tag: number, name: string): Reader {
  return protobuf.Reader.create(bytesOf(r, tag, name));
}

function varint(r: Reader, tag: number, name: string): number {
  expectWireType(tag, VARINT, name);
  return r.uint32();
}

function readTxInfo(r: Reader, into: Tx | null): Tx {
  const tx: Tx = into ?? { frequency: 0, modulation: null, bandwidth: 0, spreadingFactor: 0, codeRate: null };
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1) tx.frequency = varint(r, tag, 'txInfo.frequency');
    else if (field === 2) readModulation(subReader(r, tag, 'txInfo.modulation'), tx);
    else r.skipType(tag & 7);
  }
  return tx;
}

function readModulation(r: Reader, tx: Tx): void {
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 3) {
      tx.modulation = 'lora';
      readLora(subReader(r, tag, 'txInfo.modulation.lora'), tx);
    } else if (field === 4) {
      subReader(r, tag, 'txInfo.modulation.fsk');
      tx.modulation ??= 'fsk';
    } else if (field === 5) {
      subReader(r, tag, 'txInfo.modulation.lrFhss');
      tx.modulation ??= 'lr_fhss';
    } else {
      r.skipType(tag & 7);
    }
  }
}

function readLora(r: Reader, tx: Tx): void {
  tx.codeRate ??= 0; // present: proto3's default CR_UNDEFINED
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1) tx.bandwidth = varint(r, tag, 'txInfo.modulation.lora.bandwidth');
    else if (field === 2) {
      tx.spreadingFactor = varint(r, tag, 'txInfo.modulation.lora.spreadingFactor');
      if (tx.spreadingFactor > FRAME_LIMITS.maxSpreadingFactor) throw new InvalidField(`/txInfo/modulation/lora/spreadingFactor: ${tx.spreadingFactor} is above ${FRAME_LIMITS.maxSpreadingFactor}`);
    } else if (field === 5) {
      expectWireType(tag, VARINT, 'txInfo.modulation.lora.codeRate');
      tx.codeRate = r.int32();
    } else r.skipType(tag & 7);
  }
}

function readRxInfo(r: Reader, into: Rx | null): Rx {
  const rx: Rx = into ?? { gatewayId: '', uplinkId: 0, gwTime: null, nsTime: null, rssi: 0, snr: 0, context: Buffer.alloc(0), metadata: new Map(), crcStatus: 0 };
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    switch (field) {
      case 1:
        expectWireType(tag, LENGTH_DELIMITED, 'rxInfo.gatewayId');
        rx.gatewayId = r.string();
        break;
      case 2:
        rx.uplinkId = varint(r, tag, 'rxInfo.uplinkId');
        break;
      case 3:
        rx.gwTime = readTimestamp(subReader(r, tag, 'rxInfo.gwTime'), 'gwTime');
        break;
      case 17:
        rx.nsTime = readTimestamp(subReader(r, tag, 'rxInfo.nsTime'), 'nsTime');
        break;
      case 6:
        expectWireType(tag, VARINT, 'rxInfo.rssi');
        rx.rssi = r.int32();
        if (rx.rssi < RSSI.min || rx.rssi > RSSI.max) throw new InvalidField(`/rxInfo/rssi: ${rx.rssi} dBm is outside ${RSSI.min}..${RSSI.max}`);
        break;
      case 7:
        expectWireType(tag, FIXED32, 'rxInfo.snr');
        rx.snr = r.float();
        if (!(rx.snr >= SNR.min && rx.snr <= SNR.max)) throw new InvalidField(`/rxInfo/snr: ${rx.snr} dB is outside ${SNR.min}..${SNR.max}`);
        break;
      case 13:
        rx.context = Buffer.from(bytesOf(r, tag, 'rxInfo.context'));
        if (rx.context.length > FRAME_LIMITS.maxContextBytes) throw new InvalidField(`/rxInfo/context: ${rx.context.length} bytes is more than ${FRAME_LIMITS.maxContextBytes}`);
        break;
      case 15:
        readMetadataEntry(subReader(r, tag, 'rxInfo.metadata'), rx.metadata);
        break;
      case 16:
        expectWireType(tag, VARINT, 'rxInfo.crcStatus');
        rx.crcStatus = r.int32();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return rx;
}

/** google.protobuf.Timestamp: seconds (int64) and nanos (int32) since the Unix epoch. */
function readTimestamp(r: Reader, name: string): Date {
  let seconds = 0;
  let nanos = 0;
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1) {
      expectWireType(tag, VARINT, `${name}.seconds`);
      seconds = Number(r.int64());
    } else if (field === 2) {
      expectWireType(tag, VARINT, `${name}.nanos`);
      nanos = r.int32();
    } else r.skipType(tag & 7);
  }
  const t = new Date(seconds * 1000 + Math.floor(nanos / 1e6));
  const problem = timeProblem(t);
  if (problem) throw new InvalidField(`/rxInfo/${name}: ${seconds} s ${problem}`);
  return t;
}

/** One entry of map<string, string>: key 1, value 2. */
function readMetadataEntry(r: Reader, into: Map<string, string>): void {
  let key = '';
  let value = '';
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1) {
      expectWireType(tag, LENGTH_DELIMITED, 'rxInfo.metadata key');
      key = r.string();
    } else if (field === 2) {
      expectWireType(tag, LENGTH_DELIMITED, 'rxInfo.metadata value');
      value = r.string();
    } else r.skipType(tag & 7);
  }
  if (key.length > FRAME_LIMITS.maxMetadataKeyLength) throw new InvalidField(`/rxInfo/metadata: a key of ${key.length} characters is more than ${FRAME_LIMITS.maxMetadataKeyLength}`);
  if (value.length > FRAME_LIMITS.maxMetadataValueLength) throw new InvalidField(`/rxInfo/metadata/${key.slice(0, 40)}: ${value.length} characters is more than ${FRAME_LIMITS.maxMetadataValueLength}`);
  into.set(key, value);
}
