/**
 * The Uplink contract (shared/ARCHITECTURE.md): one radio message from one device,
 * however it arrived. Every source adapter produces exactly this shape.
 */

/** Where an uplink entered stadtfunk. */
export type UplinkSource = 'chirpstack' | 'tts' | 'concentrator';

/** One gateway / concentrator that heard the frame. */
export interface Reception {
  gatewayId: string;
  rssiDbm: number | null;
  snrDb: number | null;
  /** When this gateway received the frame (gateway clock when it has GPS, else network server time). */
  receivedAt: Date | null;
  /** Set on the reception with the best signal (highest SNR, then RSSI). */
  best: boolean;
}

/** Radio metadata of one uplink. Never part of open data. */
export interface RadioMeta {
  frequencyHz: number | null;
  spreadingFactor: number | null;
  bandwidthHz: number | null;
  /** Data rate label as the source gave it, e.g. `SF7BW125`. */
  dataRate: string | null;
  /** Band label, e.g. `EU868` or `450MHz`. */
  band: string | null;
  receptions: Reception[];
}

export interface Uplink {
  /**
   * Deterministic identity: the same message delivered twice yields the same id
   * (ChirpStack deduplicationId, TTS device + FCnt + time, or a hash of its content
   * when TTS gives no time, or DevAddr/DevEUI + 32-bit FCnt).
   */
  id: string;
  /** 16 lower-case hex digits. */
  devEui: string;
  receivedAt: Date;
  /**
   * Set when the source gave no time and receivedAt is this service's clock: a
   * redelivery would bring another time, so the writer claims the identity (frame_ids)
   * and stores the uplink only on the first claim.
   */
  localTime?: true;
  /** Full 32-bit frame counter, null when the source did not say. */
  fCnt: number | null;
  fPort: number | null;
  /** Decrypted application payload (FRMPayload). */
  payload: Buffer;
  source: UplinkSource;
  radio: RadioMeta;
  confirmed: boolean;
}
