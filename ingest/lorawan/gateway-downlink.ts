/**
 * Downlinks to raw concentrators in the ChirpStack Gateway Bridge (v4) format
 * (chirpstack/chirpstack api/proto/gw/gw.proto):
 *
 * - `{prefix}/gateway/{id}/command/down` carries a gw.DownlinkFrame: downlink_id (uint32),
 *   gateway_id, items[] of { phy_payload, tx_info: DownlinkTxInfo { frequency, power,
 *   modulation.lora { bandwidth, spreading_factor, code_rate, polarization_inversion },
 *   board, antenna, timing.delay.delay (a Duration after the uplink), context } }.
 * - `{prefix}/gateway/{id}/event/ack` answers with a gw.DownlinkTxAck: downlink_id and
 *   one item per requested item with its TxAckStatus (OK for the one that went out).
 *
 * Each is written in the encoding the concentrator's own uplinks came in (the bridge's
 * marshaler is one setting for both directions): protobuf, or protojson (camelCase, enums
 * as names, bytes as base64, a Duration as "5s"). A DownlinkFrame in protobuf is written
 * straight to the wire, as every join-accept and data downlink of a join storm is one:
 * through google-protobuf's generated classes (eleven objects, then their serializer) a
 * two-item frame took 85 µs in a fresh process and 21 µs warm, here 6-10 and 1.1-1.7 µs;
 * the cold cost is what a storm's first second pays. The bytes are the generated
 * classes' (downlink.test.ts compares them).
 * Downlinks use inverted polarity, as LoRaWAN downlinks do (the gateways' own uplinks not).
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import gwPb from '@chirpstack/chirpstack-api/gw/gw_pb.js';
import protobuf from 'protobufjs/minimal.js';
import '../protobuf-guard.js';
import type { DownlinkTxItem } from './class-a-windows.js';
import { GatewayFrameRejectReason } from './errors.js';
import type { GatewayDecodeResult } from './gateway-frame.js';
import { FRAME_LIMITS, rejected } from './uplink-frame-fields.js';

const { DownlinkFrame, DownlinkTxAck, CodeRate, TxAckStatus } = gwPb;
const TX_ACK_NAMES = new Map(Object.entries(TxAckStatus).map(([name, value]) => [value as number, name]));

export type BridgeEncoding = 'json' | 'protobuf';

export interface GatewayDownlink {
  /** gw DownlinkFrame.downlink_id, uint32. */
  downlinkId: number;
  gatewayId: string;
  /** The concentrator's context of the uplink (timing reference). */
  context: Buffer;
  /** Tried in order by the bridge; at most one goes out. */
  items: { phyPayload: Buffer; tx: DownlinkTxItem }[];
}

export function gatewayDownlinkTopic(prefix: string, gatewayId: string): string {
  return `${prefix}/gateway/${gatewayId}/command/down`;
}

export function encodeGatewayDownlink(frame: GatewayDownlink, encoding: BridgeEncoding): Buffer {
  return encoding === 'json' ? Buffer.from(JSON.stringify(downlinkJson(frame))) : downlinkWire(frame);
}

function downlinkJson(frame: GatewayDownlink): Record<string, unknown> {
  return {
    downlinkId: frame.downlinkId,
    gatewayId: frame.gatewayId,
    items: frame.items.map((item) => ({
      phyPayload: item.phyPayload.toString('base64'),
      txInfo: {
        frequency: item.tx.frequencyHz,
        power: item.tx.powerDbm,
        modulation: { lora: { bandwidth: item.tx.bandwidthHz, spreadingFactor: item.tx.spreadingFactor, codeRate: 'CR_4_5', polarizationInversion: true } },
        timing: { delay: { delay: `${item.tx.delayS}s` } },
        context: frame.context.toString('base64'),
      },
    })),
  };
}

/** Wire types of protobuf tags: (field number << 3) | wire type. */
const VARINT = 0;
const LENGTH_DELIMITED = 2;
const tag = (field: number, wireType: number): number => (field << 3) | wireType;

/**
 * gw.DownlinkFrame on the wire, fields in the generated serializer's order, zero values
 * left out as proto3 does. Field numbers: gw.proto DownlinkFrame (downlink_id 3, items 5,
 * gateway_id 7), DownlinkFrameItem (phy_payload 1, tx_info 3), DownlinkTxInfo (frequency 1,
 * power 2, modulation 3, timing 6, context 7), Modulation (lora 3), LoraModulationInfo
 * (bandwidth 1, spreading_factor 2, code_rate 5, polarization_inversion 4), Timing
 * (delay 2), DelayTimingInfo (delay 1), google.protobuf.Duration (seconds 1).
 */
function downlinkWire(frame: GatewayDownlink): Buffer {
  const w = protobuf.Writer.create();
  if (frame.downlinkId !== 0) w.uint32(tag(3, VARINT)).uint32(frame.downlinkId);
  for (const item of frame.items) {
    w.uint32(tag(5, LENGTH_DELIMITED)).fork();
    if (item.phyPayload.length > 0) w.uint32(tag(1, LENGTH_DELIMITED)).bytes(item.phyPayload);
    w.uint32(tag(3, LENGTH_DELIMITED)).fork();
    if (item.tx.frequencyHz !== 0) w.uint32(tag(1, VARINT)).uint32(item.tx.frequencyHz);
    if (item.tx.powerDbm !== 0) w.uint32(tag(2, VARINT)).int32(item.tx.powerDbm);
    w.uint32(tag(3, LENGTH_DELIMITED)).fork();
    w.uint32(tag(3, LENGTH_DELIMITED)).fork();
    if (item.tx.bandwidthHz !== 0) w.uint32(tag(1, VARINT)).uint32(item.tx.bandwidthHz);
    if (item.tx.spreadingFactor !== 0) w.uint32(tag(2, VARINT)).uint32(item.tx.spreadingFactor);
    w.uint32(tag(5, VARINT)).int32(CodeRate.CR_4_5);
    w.uint32(tag(4, VARINT)).bool(true);
    w.ldelim().ldelim();
    w.uint32(tag(6, LENGTH_DELIMITED)).fork();
    w.uint32(tag(2, LENGTH_DELIMITED)).fork();
    w.uint32(tag(1, LENGTH_DELIMITED)).fork();
    if (item.tx.delayS !== 0) w.uint32(tag(1, VARINT)).int64(item.tx.delayS);
    w.ldelim().ldelim().ldelim();
    if (frame.context.length > 0) w.uint32(tag(7, LENGTH_DELIMITED)).bytes(frame.context);
    w.ldelim().ldelim();
  }
  if (frame.gatewayId.length > 0) w.uint32(tag(7, LENGTH_DELIMITED)).string(frame.gatewayId);
  const bytes = w.finish();
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A gateway's answer to one DownlinkFrame. */
export interface GatewayTxAck {
  gatewayId: string;
  downlinkId: number;
  /** TxAckStatus names per requested item, e.g. ['TOO_LATE', 'OK']. */
  statuses: string[];
}

/** What the answer means: the window that went out, or the reason none did. */
export function txAckOutcome(ack: GatewayTxAck): { status: string; window: 'rx1' | 'rx2' | null } {
  const ok = ack.statuses.indexOf('OK');
  if (ok >= 0) return { status: 'OK', window: ok === 0 ? 'rx1' : 'rx2' };
  // Older bridges answer with one overall status (gw.DownlinkTxAck.error before items existed).
  return { status: ack.statuses.find((s) => s !== 'IGNORED') ?? ack.statuses[0] ?? 'IGNORED', window: null };
}

const TxAckJson = Type.Object({
  gatewayId: Type.String({ pattern: FRAME_LIMITS.gatewayIdPattern }),
  downlinkId: Type.Union([Type.Integer({ minimum: 0, maximum: 0xffffffff }), Type.String({ pattern: '^\\d{1,10}$' })]),
  items: Type.Optional(Type.Array(Type.Object({ status: Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Integer({ minimum: 0, maximum: 255 })])) }), { maxItems: 8 })),
});
const checkTxAck = TypeCompiler.Compile(TxAckJson);

/** Decodes an `event/ack` in protojson or protobuf. */
export function decodeGatewayTxAck(payload: Buffer, json: boolean): GatewayDecodeResult<GatewayTxAck> {
  let value: unknown;
  if (json) {
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch (error) {
      return rejected(GatewayFrameRejectReason.invalidJson, `not valid JSON: ${(error as Error).message}`);
    }
  } else {
    try {
      const ack = DownlinkTxAck.deserializeBinary(payload);
      value = { gatewayId: ack.getGatewayId(), downlinkId: ack.getDownlinkId(), items: ack.getItemsList().map((i) => ({ status: i.getStatus() })) };
    } catch (error) {
      return rejected(GatewayFrameRejectReason.invalidProtobuf, `not a valid gw.DownlinkTxAck: ${(error as Error).message}`);
    }
  }
  if (!checkTxAck.Check(value)) {
    const first = [...checkTxAck.Errors(value)][0];
    return rejected(GatewayFrameRejectReason.invalidMessage, `gw.DownlinkTxAck ${first ? `${first.path || '/'}: ${first.message}` : 'invalid'}`);
  }
  const v: Static<typeof TxAckJson> = value;
  const statuses = (v.items ?? []).map((i) => (typeof i.status === 'number' ? (TX_ACK_NAMES.get(i.status) ?? `STATUS_${i.status}`) : (i.status ?? 'IGNORED')));
  return { ok: true, value: { gatewayId: v.gatewayId.toLowerCase(), downlinkId: Number(v.downlinkId), statuses } };
}

/** The bridge's side (simulated concentrators and tests): an ack in the given encoding. */
export function encodeGatewayTxAck(ack: GatewayTxAck, encoding: BridgeEncoding): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ gatewayId: ack.gatewayId, downlinkId: ack.downlinkId, items: ack.statuses.map((status) => ({ status })) }));
  const out = new DownlinkTxAck();
  out.setGatewayId(ack.gatewayId);
  out.setDownlinkId(ack.downlinkId);
  out.setItemsList(ack.statuses.map((s) => {
    const item = new gwPb.DownlinkTxAckItem();
    item.setStatus((TxAckStatus as unknown as Record<string, number>)[s] as 0);
    return item;
  }));
  return Buffer.from(out.serializeBinary());
}

/** The bridge's reading of a command/down (simulated concentrators and tests). */
export function decodeGatewayDownlink(payload: Buffer): GatewayDownlink {
  if (payload[0] === 0x7b) {
    const v = JSON.parse(payload.toString('utf8')) as { downlinkId: number; gatewayId: string; items: { phyPayload: string; txInfo: { frequency: number; power: number; modulation: { lora: { bandwidth: number; spreadingFactor: number } }; timing: { delay: { delay: string } }; context: string } }[] };
    return {
      downlinkId: v.downlinkId,
      gatewayId: v.gatewayId,
      context: Buffer.from(v.items[0]?.txInfo.context ?? '', 'base64'),
      items: v.items.map((i, n) => ({
        phyPayload: Buffer.from(i.phyPayload, 'base64'),
        tx: {
          window: n === 0 && v.items.length > 1 ? 'rx1' : 'rx2', frequencyHz: i.txInfo.frequency, dataRate: -1, powerDbm: i.txInfo.power,
          spreadingFactor: i.txInfo.modulation.lora.spreadingFactor, bandwidthHz: i.txInfo.modulation.lora.bandwidth, delayS: parseFloat(i.txInfo.timing.delay.delay),
        },
      })),
    };
  }
  const f = DownlinkFrame.deserializeBinary(payload);
  const items = f.getItemsList();
  return {
    downlinkId: f.getDownlinkId(),
    gatewayId: f.getGatewayId(),
    context: Buffer.from(items[0]?.getTxInfo()?.getContext_asU8() ?? new Uint8Array()),
    items: items.map((i, n) => {
      const tx = i.getTxInfo();
      const lora = tx?.getModulation()?.getLora();
      return {
        phyPayload: Buffer.from(i.getPhyPayload_asU8()),
        tx: {
          window: n === 0 && items.length > 1 ? 'rx1' : 'rx2', frequencyHz: tx?.getFrequency() ?? 0, dataRate: -1, powerDbm: tx?.getPower() ?? 0,
          spreadingFactor: lora?.getSpreadingFactor() ?? 0, bandwidthHz: lora?.getBandwidth() ?? 0, delayS: tx?.getTiming()?.getDelay()?.getDelay()?.getSeconds() ?? 0,
        },
      };
    }),
  };
}
