/**
 * In-process bus of live changes for Server-Sent Events.
 *
 * Design note. Ingest publishes every committed batch; the bus turns the batch's
 * newest reading per asset, metric and channel into numbered events and keeps the last
 * `capacity` of them in a ring buffer. A client that reconnects with Last-Event-ID gets
 * what it missed from the buffer (or is told to reload when it fell out of it). Bounded
 * memory: the buffer, and a per-subscriber queue that drops the slow subscriber.
 * One bus per process: with several API processes behind a load balancer each streams
 * what its own ingest committed, so live streams belong with the ingest process.
 */
import type { WriteBatch } from '../storage/index.js';
import { latestPerKey } from '../storage/index.js';

export interface LiveEvent {
  id: number;
  assetId: string;
  devEui: string;
  metric: string;
  channel: string;
  value: number;
  quality: string;
  time: string;
}

export type LiveListener = (event: LiveEvent) => void;

export class LiveBus {
  private readonly ring: LiveEvent[] = [];
  private nextId = 1;
  private readonly listeners = new Set<LiveListener>();

  constructor(private readonly capacity = 10_000) {}

  publishBatch(batch: WriteBatch): void {
    const rows = latestPerKey([...batch.readings, ...batch.healthReadings]);
    for (const r of rows) {
      if (!r.assetId) continue;
      this.publish({ assetId: r.assetId, devEui: r.devEui, metric: r.metric, channel: r.channel, value: r.value, quality: r.quality, time: r.time.toISOString() });
    }
  }

  publish(event: Omit<LiveEvent, 'id'>): LiveEvent {
    const e = { id: this.nextId++, ...event };
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const listener of this.listeners) listener(e);
    return e;
  }

  /** Events after `lastId`; null when some of them are no longer in the buffer. */
  since(lastId: number): LiveEvent[] | null {
    const first = this.ring[0];
    // Fell out of the buffer, or an id from before this process started.
    if ((first && lastId < first.id - 1) || lastId > this.lastId()) return null;
    return this.ring.filter((e) => e.id > lastId);
  }

  lastId(): number {
    return this.nextId - 1;
  }

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
