/** Shapes shared by the steps of the LoRaWAN frame layer. */

/** One concentrator's reception of a frame: what the gateway bridge reported with it. */
export interface ConcentratorReception {
  /** Gateway ID, 16 lower-case hex digits. */
  gatewayId: string;
  rssiDbm: number | null;
  snrDb: number | null;
  /**
   * When the frame was received: the concentrator's GPS time (`gwTime`) when it has one,
   * else `nsTime` when the message carries one, else when stadtfunk got the message.
   */
  receivedAt: Date;
  frequencyHz: number | null;
  spreadingFactor: number | null;
  bandwidthHz: number | null;
  /** LoRa code rate as the bridge names it, e.g. `CR_4_5`; null when unknown or not LoRa. */
  codeRate: string | null;
  /** Concentrator context (e.g. the SX130x counter); needed to schedule a Class A downlink. */
  context: Buffer;
}

/** A reception inside a deduplicated group. */
export interface GroupedReception extends ConcentratorReception {
  /** Set on exactly one reception: highest SNR, then highest RSSI. */
  best: boolean;
}

/** All copies of one PHYPayload heard within one deduplication window. */
export interface FrameGroup {
  phyPayload: Buffer;
  /** The frame's key: its PHYPayload in base64 (the same bytes are the same frame). */
  key: string;
  receptions: GroupedReception[];
  /** When the first copy reached the window (the window's clock). */
  firstSeenAt: Date;
}

/** A copy that arrived after its group was emitted. */
export interface LateReception {
  phyPayload: Buffer;
  /** As FrameGroup.key. */
  key: string;
  reception: ConcentratorReception;
  /** When the group it belongs to was first seen. */
  groupFirstSeenAt: Date;
}
