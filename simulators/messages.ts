/**
 * What simulated devices and network servers publish, byte for byte as production does:
 * ChirpStack v4 integration `up` events (JSON as its protojson marshaler writes them,
 * default-valued fields left out; or bare protobuf `integration.UplinkEvent`) and, for the
 * raw path, encrypted LoRaWAN frames in gateway-bridge `gw.UplinkFrame`s from 2–3
 * concentrators with overlapping coverage.
 */
import integrationPb from '@chirpstack/chirpstack-api/integration/integration_pb.js';
import gwPb from '@chirpstack/chirpstack-api/gw/gw_pb.js';
import commonPb from '@chirpstack/chirpstack-api/common/common_pb.js';
import timestampPb from 'google-protobuf/google/protobuf/timestamp_pb.js';
import { buildUplinkFrame } from '../ingest/lorawan/index.js';
import type { SimDevice } from './fleet.js';
import type { Random } from './random.js';

export const SIM_VIA = ['chirpstack-json', 'chirpstack-proto', 'concentrator'] as const;
export type SimVia = (typeof SIM_VIA)[number];

export interface SimMessage {
  topic: string;
  payload: Buffer;
  /** Delay after the previous message of the same uplink (concentrator copies arrive with jitter). */
  delayMs: number;
}

export interface Concentrator {
  gatewayId: string;
  latitude: number;
  longitude: number;
}

/** Three concentrators on high roofs around the centre: every part of town hears two or three. */
export const CONCENTRATORS: Concentrator[] = [
  { gatewayId: '0016c001f1500001', latitude: 51.2277, longitude: 6.7735 },
  { gatewayId: '0016c001f1500002', latitude: 51.2150, longitude: 6.7960 },
  { gatewayId: '0016c001f1500003', latitude: 51.2400, longitude: 6.7650 },
];

export interface TopicPrefixes {
  chirpstack: string;
  concentrator: string;
  applicationId: string;
}

export const DEFAULT_PREFIXES: TopicPrefixes = { chirpstack: 'application', concentrator: '450mhz', applicationId: '6f1b3c2a-2d4e-4b8f-9a51-3c0d7e2f9b10' };

function uuid(random: Random): string {
  const b = random.bytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function distanceKm(aLat: number, aLon: number, bLat: number, bLon: number): number {
  const dLat = (aLat - bLat) * 111.2;
  const dLon = (aLon - bLon) * 111.2 * Math.cos((aLat * Math.PI) / 180);
  return Math.sqrt(dLat * dLat + dLon * dLon);
}

/** Log-distance path loss: RSSI and SNR a concentrator sees from a device, with shadowing noise. */
function signal(km: number, random: Random): { rssi: number; snr: number } {
  const rssi = Math.round(-45 - 28 * Math.log10(Math.max(km, 0.05) / 0.05) + random.gaussian(0, 3));
  const snr = Number(Math.max(-20, Math.min(12, (rssi + 120) / 5 + random.gaussian(0, 1))).toFixed(1));
  return { rssi, snr };
}

export function chirpstackJsonEvent(device: SimDevice, fCnt: number, payload: Buffer, t: Date, random: Random, prefixes: TopicPrefixes): SimMessage {
  const gw = CONCENTRATORS[device.index % CONCENTRATORS.length]!;
  const s = signal(distanceKm(device.latitude, device.longitude, gw.latitude, gw.longitude), random);
  const event: Record<string, unknown> = {
    deduplicationId: uuid(random),
    time: t.toISOString(),
    deviceInfo: {
      tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242',
      tenantName: 'Stadt',
      applicationId: prefixes.applicationId,
      applicationName: 'stadtfunk-sim',
      deviceProfileId: '9ab2b0e5-0000-4000-8000-00000000000' + (device.fPort % 10),
      deviceProfileName: device.modelId,
      deviceName: device.asset.id,
      devEui: device.devEui,
    },
    devAddr: device.devAddr,
    adr: true,
    dr: 5,
    ...(fCnt === 0 ? {} : { fCnt }),
    fPort: device.fPort,
    data: payload.toString('base64'),
    rxInfo: [{ gatewayId: gw.gatewayId, uplinkId: random.int(1, 0xffffffff), nsTime: t.toISOString(), rssi: s.rssi, snr: s.snr, channel: 2, location: {}, context: random.bytes(4).toString('base64'), crcStatus: 'CRC_OK' }],
    txInfo: { frequency: 868500000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 7, codeRate: 'CR_4_5' } } },
  };
  return { topic: `${prefixes.chirpstack}/${prefixes.applicationId}/device/${device.devEui}/event/up`, payload: Buffer.from(JSON.stringify(event)), delayMs: 0 };
}

function timestamp(t: Date): InstanceType<typeof timestampPb.Timestamp> {
  const ts = new timestampPb.Timestamp();
  ts.fromDate(t);
  return ts;
}

export function chirpstackProtoEvent(device: SimDevice, fCnt: number, payload: Buffer, t: Date, random: Random, prefixes: TopicPrefixes): SimMessage {
  const { UplinkEvent, DeviceInfo } = integrationPb;
  const gw = CONCENTRATORS[device.index % CONCENTRATORS.length]!;
  const s = signal(distanceKm(device.latitude, device.longitude, gw.latitude, gw.longitude), random);
  const info = new DeviceInfo();
  info.setTenantId('52f14cd4-c6f1-4fbd-8f87-4025e1d49242');
  info.setApplicationId(prefixes.applicationId);
  info.setDeviceName(device.asset.id);
  info.setDevEui(device.devEui);
  const rx = new gwPb.UplinkRxInfo();
  rx.setGatewayId(gw.gatewayId);
  rx.setUplinkId(random.int(1, 0xffffffff));
  rx.setNsTime(timestamp(t));
  rx.setRssi(s.rssi);
  rx.setSnr(s.snr);
  rx.setCrcStatus(gwPb.CRCStatus.CRC_OK);
  const up = new UplinkEvent();
  up.setDeduplicationId(uuid(random));
  up.setTime(timestamp(t));
  up.setDeviceInfo(info);
  up.setDevAddr(device.devAddr);
  up.setAdr(true);
  up.setDr(5);
  up.setFCnt(fCnt);
  up.setFPort(device.fPort);
  up.setData(new Uint8Array(payload));
  up.setRxInfoList([rx]);
  up.setTxInfo(txInfo(868500000));
  return { topic: `${prefixes.chirpstack}/${prefixes.applicationId}/device/${device.devEui}/event/up`, payload: Buffer.from(up.serializeBinary()), delayMs: 0 };
}

function txInfo(frequencyHz: number): InstanceType<typeof gwPb.UplinkTxInfo> {
  const lora = new gwPb.LoraModulationInfo();
  lora.setBandwidth(125000);
  lora.setSpreadingFactor(9);
  lora.setCodeRate(1); // CR_4_5 in common.CodeRate
  const modulation = new gwPb.Modulation();
  modulation.setLora(lora);
  const tx = new gwPb.UplinkTxInfo();
  tx.setFrequency(frequencyHz);
  tx.setModulation(modulation);
  return tx;
}

/**
 * One encrypted frame as the 2–3 concentrators in range report it, each copy with its
 * own RSSI/SNR and an arrival jitter of up to 60 ms (well inside the 200 ms dedup window).
 */
export function concentratorFrames(device: SimDevice, fCnt: number, payload: Buffer, t: Date, random: Random, prefixes: TopicPrefixes, allConcentrators = false): SimMessage[] {
  const phy = buildUplinkFrame({ devAddr: device.devAddr, fCnt32: fCnt, fPort: device.fPort, payload, nwkSKey: device.nwkSKey, appSKey: device.appSKey });
  const frequencyHz = 451_350_000 + 100_000 * (fCnt % 4);
  const heard = CONCENTRATORS.map((gw) => ({ gw, km: distanceKm(device.latitude, device.longitude, gw.latitude, gw.longitude) }))
    .sort((a, b) => a.km - b.km)
    .slice(0, allConcentrators || random.chance(0.6) ? 3 : 2);
  return heard.map(({ gw, km }, i) => {
    const s = signal(km, random);
    const rx = new gwPb.UplinkRxInfo();
    rx.setGatewayId(gw.gatewayId);
    rx.setUplinkId(random.int(1, 0xffffffff));
    rx.setGwTime(timestamp(new Date(t.getTime() + Math.round(km * 0.0033))));
    rx.setRssi(s.rssi);
    rx.setSnr(s.snr);
    rx.setContext(new Uint8Array(random.bytes(4)));
    rx.setCrcStatus(gwPb.CRCStatus.CRC_OK);
    const frame = new gwPb.UplinkFrame();
    frame.setPhyPayload(new Uint8Array(phy));
    frame.setTxInfo(txInfo(frequencyHz));
    frame.setRxInfo(rx);
    return {
      topic: `${prefixes.concentrator}/gateway/${gw.gatewayId}/event/up`,
      payload: Buffer.from(frame.serializeBinary()),
      delayMs: i === 0 ? 0 : random.int(1, 60),
    };
  });
}

export interface GatewayFrameFields {
  prefix: string;
  gatewayId: string;
  phyPayload: Buffer;
  frequencyHz: number;
  spreadingFactor: number;
  bandwidthHz?: number;
  rssiDbm: number;
  snrDb: number;
  /** The concentrator's timing context (what a Class A downlink is scheduled against). */
  context: Buffer;
  /** GPS time of reception; none when the concentrator has no GPS. */
  gwTime?: Date;
  encoding?: 'protobuf' | 'json';
}

/** One concentrator's `event/up` for a frame, as ChirpStack's gateway bridge publishes it (protobuf or protojson). */
export function gatewayUplinkMessage(f: GatewayFrameFields): SimMessage {
  const topic = `${f.prefix}/gateway/${f.gatewayId}/event/up`;
  if (f.encoding === 'json') {
    const json = {
      phyPayload: f.phyPayload.toString('base64'),
      txInfo: { frequency: f.frequencyHz, modulation: { lora: { bandwidth: f.bandwidthHz ?? 125_000, spreadingFactor: f.spreadingFactor, codeRate: 'CR_4_5' } } },
      rxInfo: { gatewayId: f.gatewayId, rssi: f.rssiDbm, snr: f.snrDb, context: f.context.toString('base64'), crcStatus: 'CRC_OK', ...(f.gwTime ? { gwTime: f.gwTime.toISOString() } : {}) },
    };
    return { topic, payload: Buffer.from(JSON.stringify(json)), delayMs: 0 };
  }
  const lora = new gwPb.LoraModulationInfo();
  lora.setBandwidth(f.bandwidthHz ?? 125_000);
  lora.setSpreadingFactor(f.spreadingFactor);
  lora.setCodeRate(1);
  const modulation = new gwPb.Modulation();
  modulation.setLora(lora);
  const tx = new gwPb.UplinkTxInfo();
  tx.setFrequency(f.frequencyHz);
  tx.setModulation(modulation);
  const rx = new gwPb.UplinkRxInfo();
  rx.setGatewayId(f.gatewayId);
  rx.setRssi(f.rssiDbm);
  rx.setSnr(f.snrDb);
  rx.setContext(new Uint8Array(f.context));
  rx.setCrcStatus(gwPb.CRCStatus.CRC_OK);
  if (f.gwTime) rx.setGwTime(timestamp(f.gwTime));
  const frame = new gwPb.UplinkFrame();
  frame.setPhyPayload(new Uint8Array(f.phyPayload));
  frame.setTxInfo(tx);
  frame.setRxInfo(rx);
  return { topic, payload: Buffer.from(frame.serializeBinary()), delayMs: 0 };
}

/** A concentrator's periodic `event/stats` (gw.GatewayStats), as the gateway bridge sends it every 30 s. */
export function concentratorStats(gw: Concentrator, t: Date, received: number, prefixes: TopicPrefixes): SimMessage {
  const location = new commonPb.Location();
  location.setLatitude(gw.latitude);
  location.setLongitude(gw.longitude);
  location.setAltitude(60);
  const stats = new gwPb.GatewayStats();
  stats.setGatewayId(gw.gatewayId);
  stats.setTime(timestamp(t));
  stats.setLocation(location);
  stats.setRxPacketsReceived(received);
  stats.setRxPacketsReceivedOk(received);
  return { topic: `${prefixes.concentrator}/gateway/${gw.gatewayId}/event/stats`, payload: Buffer.from(stats.serializeBinary()), delayMs: 0 };
}
