/**
 * The LoRaWAN frame layer for raw concentrators (stadtfunk as network server,
 * LoRaWAN 1.0.x, ABP and OTAA):
 *
 *   gateway-bridge message → decode (gateway-frame) → dedup-window →
 *   frame-processor (parse → candidates → MIC → counter → decrypt → Uplink)
 *   join-processor (join-request → MIC → DevNonce → DevAddr, keys → join-accept)
 *   downlink-planner (ACK, MAC answers, queued data → data downlink) → gateway-downlink
 *
 * Database-free: storage supplies the devices and persists counters and sessions.
 */
export { FrameRejectReason, GatewayFrameRejectReason, KeyVaultError } from './errors.js';
export type { FrameRejectReasonCode, GatewayFrameRejectReasonCode } from './errors.js';
export type { ConcentratorReception, FrameGroup, GroupedReception, LateReception } from './types.js';
export { parsePhyPayload, devAddrToWire, MAX_PHY_PAYLOAD_BYTES, type DataUpFrame, type UplinkFCtrl, type ParsePhyPayloadResult } from './phy-payload.js';
export { aesCmac } from './aes-cmac.js';
export { computeUplinkMic, verifyUplinkMic } from './mic.js';
export { rebuildFCnt, sameEpochCounter, checkCounter, type CounterVerdict } from './frame-counter.js';
export { cryptFrmPayload, decryptUplinkPayload, frmPayloadKeyFor } from './decrypt.js';
export { parseUplinkMacCommands, isDevStatusAns, type UplinkMacCommand, type DevStatusAns, type LinkCheckReq, type MacCommandsResult } from './mac-commands.js';
export { createKeyVault, keyAad, redact, redactSecrets, type KeyVault, type SessionKeyName } from './key-vault.js';
export { DedupWindow, bestReceptionIndex, frameKey, type DedupWindowOptions, type DedupClock, type DedupOfferResult } from './dedup-window.js';
export { processFrameGroup, type AbpDeviceCandidate, type AbpDeviceLookup, type FrameOutcome, type FrameProcessorOptions } from './frame-processor.js';
export {
  decodeUplinkFrameJson,
  decodeUplinkFrameProtobuf,
  decodeGatewayStatsJson,
  decodeGatewayStatsProtobuf,
  receptionOf,
  type GatewayUplinkFrame,
  type GatewayStatsReport,
  type GatewayDecodeResult,
} from './gateway-frame.js';
export { buildUplinkFrame, type UplinkFrameFields } from './frame-builder.js';
export { buildJoinRequest, parseJoinRequest, isJoinRequest, type JoinRequest } from './join-request.js';
export { buildJoinAccept, openJoinAccept, deriveSessionKeys, type SessionKeys } from './join-accept.js';
export { buildDownlinkFrame, openDownlinkFrame, type OpenedDownlink } from './downlink-frame.js';
export { encodeDownlinkMac, parseDownlinkMac, type DownlinkMacCommand } from './mac-downlink.js';
export { EU868, dataRateIndex, maxPayloadBytes, rx1DataRate, type RegionParameters } from './region.js';
export { MAC_VERSIONS, type MacVersion } from './join-processor.js';
export {
  decodeGatewayDownlink, encodeGatewayDownlink, decodeGatewayTxAck, encodeGatewayTxAck, txAckOutcome, gatewayDownlinkTopic,
  type GatewayDownlink, type GatewayTxAck, type BridgeEncoding,
} from './gateway-downlink.js';
