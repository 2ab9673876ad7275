/**
 * The network-server settings of the raw-frame path (LORAWAN_* variables): NetID and
 * DevAddr ranges for joins, the regional parameters per concentrator band, and the
 * timings of downlinks and MAC commands.
 *
 * Read by config.ts (the only module that sees process.env). EU868 is built in
 * (ingest/lorawan/region.ts). The 450 MHz band has no official LoRaWAN region: its
 * channels, data rates, RX2 and RX1 frequency rule are the operator's, from
 * LORAWAN_450_*; without them a placeholder plan on 451.35–451.65 MHz stands (the one the
 * simulator uses), and `band450IsPlaceholder` tells the service to warn at start.
 */
import { ConfigError } from './config-error.js';
import { netIdRange, parseDevAddrRanges, type DevAddrRange } from './ingest/lorawan/dev-addr-pool.js';
import { EU868, type LoraDataRate, type RegionParameters } from './ingest/lorawan/region.js';

export interface LorawanConfig {
  /** NetID given in join-accepts, 6 hex digits. LORAWAN_NET_ID, default 000000. */
  netId: string;
  /** Where joined devices get their DevAddr. LORAWAN_DEVADDR_RANGES, default the NetID's block. */
  devAddrRanges: readonly DevAddrRange[];
  /** Regional parameters per concentrator band label (INGEST_CONCENTRATOR_BANDS). */
  regions: Readonly<Record<string, RegionParameters>>;
  /** No LORAWAN_450_* variable is set: the 450 MHz band runs on the placeholder plan. */
  band450IsPlaceholder: boolean;
  /**
   * Copies of a join-request are gathered this long before it is answered (the data
   * dedup window is INGEST_DEDUP_WINDOW_MS). LORAWAN_JOIN_DEDUP_WINDOW_MS, default 100 ms.
   */
  joinDedupWindowMs: number;
  /** A device is asked for battery and margin (DevStatusReq) this often; 0 never. LORAWAN_DEV_STATUS_INTERVAL_S, default 86400. */
  devStatusIntervalS: number;
  /** A published downlink without the bridge's event/ack this long counts as lost. LORAWAN_DOWNLINK_ACK_TIMEOUT_MS, default 10000. */
  downlinkAckTimeoutMs: number;
  /** An application downlink is given up (failed) after this many transmissions. LORAWAN_DOWNLINK_MAX_ATTEMPTS, default 3. */
  downlinkMaxAttempts: number;
  /** ADR keeps this much SNR in reserve, dB. LORAWAN_ADR_MARGIN_DB, default 10. */
  adrMarginDb: number;
}

type Env = Record<string, string | undefined>;

const LABEL_450 = '450MHz';
const PLACEHOLDER_450 = {
  channels: '451350000,451450000,451550000,451650000',
  rx2FrequencyHz: '451750000',
  dataRates: 'SF12BW125,SF11BW125,SF10BW125,SF9BW125,SF8BW125,SF7BW125',
  maxPayload: '51,51,51,115,242,242',
  txPowerDbm: '20',
};

function value(env: Env, name: string): string | null {
  const v = env[name]?.trim();
  return v ? v : null;
}

function whole(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = value(env, name);
  if (v === null) return fallback;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(name, `"${v}" is not a whole number`, String(fallback));
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `${n} is outside ${min}..${max}`, String(fallback));
  return n;
}

function hzList(env: Env, name: string, fallback: string, allowEmpty = false): number[] {
  const text = value(env, name) ?? fallback;
  const list = text.split(',').map((x) => x.trim()).filter(Boolean);
  if (list.length === 0 && !allowEmpty) throw new ConfigError(name, 'needs at least one frequency', PLACEHOLDER_450.channels);
  return list.map((x) => {
    if (!/^\d{6,10}$/.test(x)) throw new ConfigError(name, `"${x}" is not a frequency in Hz`, PLACEHOLDER_450.channels);
    return Number(x);
  });
}

function dataRates(env: Env, name: string): LoraDataRate[] {
  const text = value(env, name) ?? PLACEHOLDER_450.dataRates;
  return text.split(',').map((x) => {
    const m = /^SF(\d{1,2})BW(125|250|500)$/.exec(x.trim());
    if (!m || Number(m[1]) < 5 || Number(m[1]) > 12) throw new ConfigError(name, `"${x.trim()}" is not a LoRa data rate like SF9BW125`, PLACEHOLDER_450.dataRates);
    return { spreadingFactor: Number(m[1]), bandwidthHz: Number(m[2]) * 1000 };
  });
}

/** The operator's 450 MHz band (see the module note). */
function band450(env: Env, rxDelayS: number, rx1DrOffset: number): RegionParameters {
  const rates = dataRates(env, 'LORAWAN_450_DATA_RATES');
  const payload = (value(env, 'LORAWAN_450_MAX_PAYLOAD_BYTES') ?? PLACEHOLDER_450.maxPayload).split(',').map((x) => Number(x.trim()));
  if (payload.length !== rates.length || payload.some((n) => !Number.isInteger(n) || n < 1 || n > 242)) {
    throw new ConfigError('LORAWAN_450_MAX_PAYLOAD_BYTES', `needs one size of 1..242 bytes per data rate (${rates.length})`, PLACEHOLDER_450.maxPayload);
  }
  const rx2DataRate = whole(env, 'LORAWAN_450_RX2_DATA_RATE', 0, 0, rates.length - 1);
  const powerDbm = whole(env, 'LORAWAN_450_TX_POWER_DBM', Number(PLACEHOLDER_450.txPowerDbm), 0, 40);
  const extra = hzList(env, 'LORAWAN_450_EXTRA_CHANNELS_HZ', '', true);
  if (extra.length > 5) throw new ConfigError('LORAWAN_450_EXTRA_CHANNELS_HZ', 'a CFList holds at most five channels', '451850000,451950000');
  return {
    name: value(env, 'LORAWAN_450_BAND') ?? LABEL_450,
    dataRates: rates,
    maxPayloadBytes: payload,
    maxAdrDataRate: rates.length - 1,
    defaultChannelsHz: hzList(env, 'LORAWAN_450_CHANNELS_HZ', PLACEHOLDER_450.channels),
    extraChannelsHz: extra,
    rx1FrequencyOffsetHz: whole(env, 'LORAWAN_450_RX1_OFFSET_HZ', 0, -50_000_000, 50_000_000),
    rx1DrOffset,
    rx2FrequencyHz: hzList(env, 'LORAWAN_450_RX2_FREQUENCY_HZ', PLACEHOLDER_450.rx2FrequencyHz)[0]!,
    rx2DataRate,
    rxDelayS,
    joinAcceptDelayS: 5,
    downlinkPowerDbm: () => powerDbm,
    maxTxPowerIndex: 7,
  };
}

export function loadLorawanConfig(env: Env): LorawanConfig {
  const netId = (value(env, 'LORAWAN_NET_ID') ?? '000000').toLowerCase();
  if (!/^[0-9a-f]{6}$/.test(netId)) throw new ConfigError('LORAWAN_NET_ID', `"${netId}" is not 6 hex digits`, '000000');
  let devAddrRanges: DevAddrRange[];
  try {
    const text = value(env, 'LORAWAN_DEVADDR_RANGES');
    devAddrRanges = text === null ? [netIdRange(netId)] : parseDevAddrRanges(text);
  } catch (error) {
    throw new ConfigError('LORAWAN_DEVADDR_RANGES', (error as Error).message, '00000000-01ffffff');
  }
  // RECEIVE_DELAY1 for every band: a network whose concentrators answer over a slow backhaul may want 2 or 3 s.
  const rxDelayS = whole(env, 'LORAWAN_RX1_DELAY_S', 1, 1, 15);
  const rx1DrOffset = whole(env, 'LORAWAN_RX1_DR_OFFSET', 0, 0, 5);
  const b450 = band450(env, rxDelayS, rx1DrOffset);
  return Object.freeze({
    netId,
    devAddrRanges,
    regions: Object.freeze({ EU868: { ...EU868, rxDelayS, rx1DrOffset }, [b450.name]: b450 }),
    band450IsPlaceholder: !Object.keys(env).some((k) => k.startsWith('LORAWAN_450_') && value(env, k) !== null),
    joinDedupWindowMs: whole(env, 'LORAWAN_JOIN_DEDUP_WINDOW_MS', 100, 1, 60_000),
    devStatusIntervalS: whole(env, 'LORAWAN_DEV_STATUS_INTERVAL_S', 86_400, 0, 31_536_000),
    downlinkAckTimeoutMs: whole(env, 'LORAWAN_DOWNLINK_ACK_TIMEOUT_MS', 10_000, 100, 600_000),
    downlinkMaxAttempts: whole(env, 'LORAWAN_DOWNLINK_MAX_ATTEMPTS', 3, 1, 100),
    adrMarginDb: whole(env, 'LORAWAN_ADR_MARGIN_DB', 10, 0, 30),
  });
}
