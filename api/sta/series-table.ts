/**
 * The series one MQTT publisher knows to be in the catalogue (sta_datastreams), with what
 * it needs per series on ingest's path: the raw Datastream id, the oldest reading time
 * and the device. A city has hundreds of thousands of series (`bench ingest`: 20,000
 * devices, 153,000 series), so a series is a slot in flat arrays, not an object: about
 * 70 bytes a series, where an object per series with its own maps held 60 MB and more
 * beside ingest's own 250 MB.
 *
 * Lookup is asset → `metric` (or `metric` NUL `channel`) → slot: the metric names are the
 * decoders' constants, so a series without a channel allocates nothing to be found.
 */
import { datastreamId } from '../../storage/index.js';
import type { SeriesKey } from '../../storage/index.js';

const INITIAL = 1024;

/** An asset's key of a series: its metric, NUL and its channel where it has one. */
const slotKey = (metric: string, channel: string): string => (channel === '' ? metric : `${metric}\u0000${channel}`);

export class SeriesTable {
  private readonly byAsset = new Map<string, Map<string, number>>();
  private assetOf: string[] = [];
  private metricOf: string[] = [];
  private channelOf: string[] = [];
  private firstMs = new Float64Array(INITIAL);
  private datastream = new Float64Array(INITIAL);
  private device = new Int32Array(INITIAL);
  /** Devices by index: a device's id is kept once, not once per series. */
  private readonly deviceIndex = new Map<string, number>();
  private readonly devices: string[] = [];
  private used = 0;

  get size(): number {
    return this.used;
  }

  /** The slot of a series; -1 when it is not known. */
  find(assetId: string, metric: string, channel: string): number {
    return this.byAsset.get(assetId)?.get(slotKey(metric, channel)) ?? -1;
  }

  /** Adds a series (it must not be known yet); returns its slot. */
  add(assetId: string, metric: string, channel: string, devEui: string, firstMs: number): number {
    let slots = this.byAsset.get(assetId);
    if (!slots) this.byAsset.set(assetId, (slots = new Map()));
    const slot = this.grow();
    this.assetOf[slot] = assetId;
    this.metricOf[slot] = metric;
    this.channelOf[slot] = channel;
    this.firstMs[slot] = firstMs;
    this.datastream[slot] = datastreamId('raw', assetId, metric, channel);
    this.device[slot] = this.deviceSlot(devEui);
    slots.set(slotKey(metric, channel), slot);
    return slot;
  }

  datastreamId(slot: number): number {
    return this.datastream[slot]!;
  }

  /**
   * Takes a reading of the series into account; true when the catalogue must hear of it
   * (an older first reading, or another device).
   */
  update(slot: number, devEui: string, ms: number): boolean {
    let changed = false;
    if (ms < this.firstMs[slot]!) {
      this.firstMs[slot] = ms;
      changed = true;
    }
    if (this.devices[this.device[slot]!] !== devEui) {
      this.device[slot] = this.deviceSlot(devEui);
      changed = true;
    }
    return changed;
  }

  /** What the catalogue stores of the series (storage/sta/catalogue.ts upsertSeries). */
  key(slot: number): SeriesKey {
    return { assetId: this.assetOf[slot]!, metric: this.metricOf[slot]!, channel: this.channelOf[slot]!, devEui: this.devices[this.device[slot]!]!, firstTime: new Date(this.firstMs[slot]!) };
  }

  private deviceSlot(devEui: string): number {
    let i = this.deviceIndex.get(devEui);
    if (i === undefined) {
      i = this.devices.length;
      this.devices.push(devEui);
      this.deviceIndex.set(devEui, i);
    }
    return i;
  }

  private grow(): number {
    const slot = this.used++;
    if (slot >= this.firstMs.length) {
      const capacity = this.firstMs.length * 2;
      const grown = <T extends Float64Array | Int32Array>(from: T, make: (n: number) => T): T => {
        const to = make(capacity);
        to.set(from);
        return to;
      };
      this.firstMs = grown(this.firstMs, (n) => new Float64Array(n));
      this.datastream = grown(this.datastream, (n) => new Float64Array(n));
      this.device = grown(this.device, (n) => new Int32Array(n));
    }
    return slot;
  }
}
