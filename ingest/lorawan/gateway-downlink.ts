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
 * marshaler is one setting for both directions): protobuf through the generated classes,
 * or protojson (camelCase, enums as names, bytes as base64, a Duration as "5s").
 * Downlinks use inverted polarity, as LoRaWAN downlinks do (the gateways' own uplinks not).
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import gwPb from '@chirpstack/chirpstack-api/gw/gw_pb.js';
import durationPb from 'google-protobuf/google/protobuf/duration_pb.js';
import '../protobuf-guard.js';
import type { DownlinkTxItem } from './class-a-windows.js';
import { GatewayFrameRejectReason } from './errors.js';
import type { GatewayDecodeResult } from './gateway-frame.js';
import { FRAME_LIMITS, rejected } from './uplink-frame-fields.js';

const { DownlinkFrame, DownlinkFrameItem, DownlinkTxInfo, DownlinkTxAck, Modulation, LoraModulationInfo, Timing, DelayTimingInfo, CodeRate, TxAckStatus } = gwPb;
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
  return encoding === 'json' ? Buffer.from(JSON.stringify(downlinkJson(frame))) : Buffer.from(downlinkProto(frame).serializeBinary());
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

function downlinkProto(frame: GatewayDownlink): InstanceType<typeof DownlinkFrame> {
  const out = new DownlinkFrame();
  out.setDownlinkId(frame.downlinkId);
  out.setGatewayId(frame.gatewayId);
  out.setItemsList(frame.items.map((item) => {
    const lora = new LoraModulationInfo();
    lora.setBandwidth(item.tx.bandwidthHz);
    lora.setSpreadingFactor(item.tx.spreadingFactor);
    lora.setCodeRate(CodeRate.CR_4_5);
    lora.setPolarizationInversion(true);
    const modulation = new Modulation();
    modulation.setLora(lora);
    const duration = new durationPb.Duration();
    duration.setSeconds(item.tx.delayS);
    const delay = new DelayTimingInfo();
    delay.setDelay(duration);
    const timing = new Timing();
    timing.setDelay(delay);
    const tx = new DownlinkTxInfo();
    tx.setFrequency(item.tx.frequencyHz);
    tx.setPower(item.tx.powerDbm);
    tx.setModulation(modulation);
    tx.setTiming(timing);
    tx.setContext(new Uint8Array(frame.context));
    const i = new DownlinkFrameItem();
    i.setPhyPayload(new Uint8Array(item.phyPayload));
    i.setTxInfo(tx);
    return i;
  }));
  return out;
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
