/**
 * A simulated city of OTAA devices behind three concentrators, over a real MQTT broker:
 * devices join through the two or three concentrators that hear them, wait for their
 * accept, retry with a new DevNonce when none came in time, then send uplinks (some
 * confirmed); streetlights take dimming commands and report the new state.
 *
 * The concentrators behave as ChirpStack's gateway bridge does towards the network
 * server: `event/up` per heard frame (protobuf), and for each `command/down` an
 * `event/ack` with a TxAckStatus per item: RX1 if the command arrived before the window
 * (less a 50 ms lead the radio needs), else TOO_LATE and RX2 tried the same way. The
 * context of an uplink is what the concentrator returns with a downlink; here it names
 * the device and when the frame was heard, so the gateway hands what it sends to the
 * device that listens (a radio reaches whoever listens; the device's DevAddr and MIC
 * decide whether it is its own).
 */
import type { MqttClient } from 'mqtt';
import { decodeGatewayDownlink, encodeGatewayTxAck } from '../ingest/lorawan/index.js';
import { initialState, payloadAt, type DeviceState } from './device-state.js';
import type { SimDevice } from './fleet.js';
import { CONCENTRATORS, gatewayUplinkMessage, type SimMessage } from './messages.js';
import { SimOtaaDevice, type OtaaIdentity } from './otaa-device.js';
import { Random } from './random.js';

/** The JoinEUI the simulated devices carry. */
export const SIM_JOIN_EUI = '70b3d57ed0005f00';

/** AppKey and version of a simulated device, from the seed: registering twice gives the same keys. */
export function otaaIdentityOf(device: SimDevice, seed: string | number): OtaaIdentity {
  const random = new Random(`otaa:${seed}:${device.devEui}`);
  return { devEui: device.devEui, joinEui: SIM_JOIN_EUI, appKey: random.bytes(16), macVersion: device.index % 2 === 0 ? '1.0.3' : '1.0.4' };
}

export interface OtaaCityOptions {
  client: MqttClient;
  fleet: SimDevice[];
  /** Concentrator topic prefix, e.g. `450mhz`. */
  prefix: string;
  seed: string | number;
  /** Data uplinks per second over the joined fleet. */
  rate: number;
  /** Joins are spread over this many seconds at the start (a power cut coming back). Default 5. */
  joinSpreadS?: number;
  /** A join-request without accept is repeated after this long (JOIN_ACCEPT_DELAY2 + 1 s). Default 7000 ms. */
  joinTimeoutMs?: number;
  /** Share of devices that send confirmed uplinks. Default 0.1. */
  confirmedShare?: number;
  /** Base uplink frequency; four channels 100 kHz apart. Default 451.35 MHz. */
  frequencyHz?: number;
}

export interface OtaaCityStats {
  joined: number;
  joinRequests: number;
  joinRetries: number;
  uplinks: number;
  confirmedUplinks: number;
  acks: number;
  lampCommands: number;
  macCommands: number;
  downlinks: number;
  tooLate: number;
}

interface Heard {
  device: number;
  heardAtMs: number;
}

const LEAD_MS = 50;

export class OtaaCity {
  readonly devices: SimOtaaDevice[];
  readonly stats: OtaaCityStats = { joined: 0, joinRequests: 0, joinRetries: 0, uplinks: 0, confirmedUplinks: 0, acks: 0, lampCommands: 0, macCommands: 0, downlinks: 0, tooLate: 0 };
  private readonly states: DeviceState[];
  private readonly random: Random;
  private readonly joinAt: number[];
  private readonly heard = new Map<string, Heard>();
  private contextSeq = 0;
  private next = 0;
  private readonly started = Date.now();

  constructor(private readonly options: OtaaCityOptions) {
    this.random = new Random(`otaa-city:${options.seed}`);
    this.devices = options.fleet.map((d) => new SimOtaaDevice(otaaIdentityOf(d, options.seed), this.random.fork(d.devEui)));
    this.states = options.fleet.map((d) => initialState(d, this.random));
    const spread = (options.joinSpreadS ?? 5) * 1000;
    this.joinAt = options.fleet.map(() => this.started + this.random.between(0, spread));
  }

  /** Subscribes the concentrators to their command topics. */
  async start(): Promise<void> {
    this.options.client.on('message', (topic, payload) => {
      if (topic.endsWith('/command/down')) this.onCommand(topic, payload);
    });
    await this.options.client.subscribeAsync(CONCENTRATORS.map((gw) => `${this.options.prefix}/gateway/${gw.gatewayId}/command/down`), { qos: 1 });
  }

  /** One step of the city at the current time: joins due, retries, and the uplinks the rate allows. */
  async tick(uplinkBudget: number): Promise<void> {
    const now = Date.now();
    const timeout = this.options.joinTimeoutMs ?? 7000;
    for (let i = 0; i < this.devices.length; i++) {
      const device = this.devices[i]!;
      if (device.joined || now < this.joinAt[i]!) continue;
      if (device.pendingDevNonce !== null) this.stats.joinRetries++;
      // Retries back off a little each time, as LoRaWAN devices must (duty cycle).
      this.joinAt[i] = now + timeout + this.random.between(0, 1000 * Math.min(device.joinAttempts, 10));
      this.stats.joinRequests++;
      await this.send(i, device.joinRequest());
    }
    const joined = this.devices.filter((d) => d.joined).length;
    this.stats.joined = joined;
    for (let n = 0; n < uplinkBudget && joined > 0; n++) {
      let i = this.next++ % this.devices.length;
      for (let guard = 0; !this.devices[i]!.joined && guard < this.devices.length; guard++) i = this.next++ % this.devices.length;
      const sim = this.options.fleet[i]!;
      const device = this.devices[i]!;
      // Spread over the fleet whatever its size: (37 i mod 100) runs through 0..99 for every 100 devices.
      const confirmed = ((i * 37) % 100) / 100 < (this.options.confirmedShare ?? 0.1);
      const payload = payloadAt(sim, this.states[i]!, new Date(), this.random, sim.kind === 'streetlight' ? device.lamp : null);
      this.stats.uplinks++;
      if (confirmed) this.stats.confirmedUplinks++;
      await this.send(i, device.uplink(sim.fPort, payload, confirmed));
    }
  }

  /** Runs for `durationS`, reporting once a second. */
  async run(durationS: number, onProgress?: (stats: OtaaCityStats, elapsedS: number) => void): Promise<OtaaCityStats> {
    const end = this.started + durationS * 1000;
    let last = Date.now();
    let credit = 0;
    let reported = Date.now();
    while (Date.now() < end) {
      const now = Date.now();
      credit += ((now - last) / 1000) * this.options.rate;
      last = now;
      const budget = Math.floor(credit);
      credit -= budget;
      await this.tick(budget);
      this.collect();
      if (now - reported >= 1000) {
        reported = now;
        onProgress?.({ ...this.stats }, (now - this.started) / 1000);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    this.collect();
    return { ...this.stats };
  }

  private collect(): void {
    this.stats.acks = this.devices.reduce((n, d) => n + d.seen.acks, 0);
    this.stats.lampCommands = this.devices.reduce((n, d) => n + d.seen.commands, 0);
    this.stats.macCommands = this.devices.reduce((n, d) => n + d.seen.macCommands, 0);
  }

  /** A frame as the nearest two or three concentrators hear it, each with its own signal and context. */
  private async send(index: number, phy: Buffer): Promise<void> {
    const sim = this.options.fleet[index]!;
    const frequencyHz = (this.options.frequencyHz ?? 451_350_000) + 100_000 * this.random.int(0, 3);
    const heard = CONCENTRATORS.map((gw) => ({ gw, km: distanceKm(sim.latitude, sim.longitude, gw.latitude, gw.longitude) }))
      .sort((a, b) => a.km - b.km)
      .slice(0, this.random.chance(0.6) ? 3 : 2);
    const messages: SimMessage[] = heard.map(({ gw, km }) => {
      const context = Buffer.alloc(8);
      context.writeUInt32BE(index, 0);
      context.writeUInt32BE(this.contextSeq++ >>> 0, 4);
      this.heard.set(context.toString('hex'), { device: index, heardAtMs: Date.now() });
      const rssi = Math.round(-45 - 28 * Math.log10(Math.max(km, 0.05) / 0.05) + this.random.gaussian(0, 3));
      return gatewayUplinkMessage({
        prefix: this.options.prefix, gatewayId: gw.gatewayId, phyPayload: phy, frequencyHz, spreadingFactor: 9,
        rssiDbm: rssi, snrDb: Number(Math.max(-20, Math.min(12, (rssi + 120) / 5)).toFixed(1)), context,
      });
    });
    if (this.heard.size > 200_000) for (const key of [...this.heard.keys()].slice(0, 100_000)) this.heard.delete(key);
    for (const m of messages) this.options.client.publish(m.topic, m.payload, { qos: 1 });
  }

  /** A concentrator's reaction to a command: send in RX1 or RX2 if still in time, and say so. */
  private onCommand(topic: string, payload: Buffer): void {
    const gatewayId = topic.split('/').at(-3)!;
    let frame;
    try {
      frame = decodeGatewayDownlink(payload);
    } catch {
      return;
    }
    const heard = this.heard.get(frame.context.toString('hex'));
    const now = Date.now();
    const statuses = frame.items.map(() => 'IGNORED');
    let sent: Buffer | null = null;
    for (let i = 0; i < frame.items.length && heard; i++) {
      const item = frame.items[i]!;
      if (now + LEAD_MS <= heard.heardAtMs + item.tx.delayS * 1000) {
        statuses[i] = 'OK';
        sent = item.phyPayload;
        break;
      }
      statuses[i] = 'TOO_LATE';
      this.stats.tooLate++;
    }
    if (!heard) statuses.fill('INTERNAL_ERROR');
    this.options.client.publish(`${this.options.prefix}/gateway/${gatewayId}/event/ack`, encodeGatewayTxAck({ gatewayId, downlinkId: frame.downlinkId, statuses }, 'protobuf'), { qos: 1 });
    if (sent && heard) {
      this.stats.downlinks++;
      this.devices[heard.device]!.onDownlink(sent);
    }
  }
}

function distanceKm(aLat: number, aLon: number, bLat: number, bLon: number): number {
  const dLat = (aLat - bLat) * 111.2;
  const dLon = (aLon - bLon) * 111.2 * Math.cos((aLat * Math.PI) / 180);
  return Math.sqrt(dLat * dLat + dLon * dLon);
}
