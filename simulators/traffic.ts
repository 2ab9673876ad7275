/**
 * The simulated city's traffic as a deterministic sequence: uplink k goes at
 * `start + k / rate` seconds, from the devices in turn, each with its own counter and
 * state. The same seed, fleet, rate and start give byte-identical messages.
 */
import { buildFleet, DEVICE_KINDS, type DeviceKind, type SimDevice } from './fleet.js';
import { initialState, payloadAt, type DeviceState } from './device-state.js';
import { chirpstackJsonEvent, chirpstackProtoEvent, CONCENTRATORS, concentratorFrames, concentratorStats, DEFAULT_PREFIXES, type SimMessage, type SimVia, type TopicPrefixes } from './messages.js';
import { Random } from './random.js';

export interface TrafficOptions {
  devices: number;
  kinds?: readonly DeviceKind[];
  via: SimVia;
  /** Uplinks per second over the whole fleet. Default: what the devices' intervals add up to. */
  rate?: number;
  seed: string | number;
  start: Date;
  prefixes?: TopicPrefixes;
  /** First frame counter of every device (e.g. past 65535 to exercise 32-bit counters). Default 0. */
  firstFCnt?: number;
  /** Raw frames: every concentrator hears every frame (default: two or three by distance). */
  allConcentrators?: boolean;
}

export interface SimUplink {
  device: SimDevice;
  time: Date;
  fCnt: number;
  messages: SimMessage[];
}

export function naturalRate(fleet: SimDevice[]): number {
  return fleet.reduce((sum, d) => sum + 1 / d.intervalS, 0);
}

export class CityTraffic {
  readonly fleet: SimDevice[];
  readonly rate: number;
  private readonly random: Random;
  private readonly states: DeviceState[];
  private readonly counters: number[];
  private readonly prefixes: TopicPrefixes;
  private k = 0;

  constructor(private readonly options: TrafficOptions) {
    this.fleet = buildFleet({ devices: options.devices, kinds: options.kinds ?? DEVICE_KINDS, seed: options.seed });
    this.random = new Random(`traffic:${options.seed}`);
    this.states = this.fleet.map((d) => initialState(d, this.random));
    this.counters = this.fleet.map(() => options.firstFCnt ?? 0);
    this.rate = options.rate ?? naturalRate(this.fleet);
    this.prefixes = options.prefixes ?? DEFAULT_PREFIXES;
  }

  /** The next uplink of the city. */
  next(): SimUplink {
    const k = this.k++;
    const index = k % this.fleet.length;
    const device = this.fleet[index]!;
    const time = new Date(this.options.start.getTime() + Math.round((k * 1000) / this.rate));
    const fCnt = this.counters[index]!;
    this.counters[index] = fCnt + 1;
    const payload = payloadAt(device, this.states[index]!, time, this.random);
    const messages =
      this.options.via === 'chirpstack-json'
        ? [chirpstackJsonEvent(device, fCnt, payload, time, this.random, this.prefixes)]
        : this.options.via === 'chirpstack-proto'
          ? [chirpstackProtoEvent(device, fCnt, payload, time, this.random, this.prefixes)]
          : concentratorFrames(device, fCnt, payload, time, this.random, this.prefixes, this.options.allConcentrators ?? false);
    // Raw-frame cities also report concentrator health every 30 simulated seconds.
    if (this.options.via === 'concentrator' && Math.floor(time.getTime() / 30_000) !== this.lastStatsSlot) {
      this.lastStatsSlot = Math.floor(time.getTime() / 30_000);
      for (const gw of CONCENTRATORS) messages.push(concentratorStats(gw, time, this.framesSinceStats, this.prefixes));
      this.framesSinceStats = 0;
    }
    this.framesSinceStats += messages.length;
    return { device, time, fCnt, messages };
  }

  private lastStatsSlot = -1;
  private framesSinceStats = 0;
}
