/**
 * Ingest's history for the ops cockpit (issue 25): messages, uplinks, readings, dead
 * letters and batch commit time per minute, and per gateway the uplinks it heard with
 * their RSSI and SNR.
 *
 * Design note. Batches are counted in memory and written at most once a minute (one
 * statement per table), so the history costs the database nothing per batch. A minute's
 * row is added to, not replaced: the first write of a minute holds a part of it, the
 * next adds the rest, and several workers add up. When a write fails the totals stay and
 * go with the next one; at most `maxMinutes` minutes are held (the oldest are dropped
 * first), so an outage cannot grow memory. Rows older than a week are deleted once an hour.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { addConcentratorMinutes, addIngestMinutes, deleteOpsHistoryBefore, type ConcentratorMinuteRow, type IngestMinuteRow, type UplinkRow } from '../storage/index.js';

const MINUTE_MS = 60_000;
const KEEP_MS = 7 * 86_400_000;

export interface OpsHistoryOptions {
  pool: pg.Pool;
  log: Logger;
  /** Time between writes, ms. Default 60 000: the history is per minute. */
  flushEveryMs?: number;
  /** Minutes held while the database is away. Default 1440 (a day). */
  maxMinutes?: number;
}

/** What one committed batch adds. */
export interface CommittedBatch {
  at: number;
  messages: number;
  /** The batch's uplinks that were new (redeliveries are not counted twice). */
  uplinks: UplinkRow[];
  readings: number;
  deadLetters: number;
  writeSeconds: number;
}

export class OpsHistory {
  private minutes = new Map<number, IngestMinuteRow>();
  private gateways = new Map<string, ConcentratorMinuteRow>();
  private timer: NodeJS.Timeout | null = null;
  private lastPrune = 0;
  private writing: Promise<void> | null = null;

  constructor(private readonly options: OpsHistoryOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.options.flushEveryMs ?? MINUTE_MS);
    this.timer.unref();
  }

  record(b: CommittedBatch): void {
    const minute = b.at - (b.at % MINUTE_MS);
    let row = this.minutes.get(minute);
    if (!row) {
      row = { minute: new Date(minute), messages: 0, uplinks: 0, readings: 0, deadLetters: 0, batches: 0, batchSecondsSum: 0, batchSecondsMax: 0 };
      this.minutes.set(minute, row);
      this.bound();
    }
    row.messages += b.messages;
    row.uplinks += b.uplinks.length;
    row.readings += b.readings;
    row.deadLetters += b.deadLetters;
    row.batches += 1;
    row.batchSecondsSum += b.writeSeconds;
    row.batchSecondsMax = Math.max(row.batchSecondsMax, b.writeSeconds);
    for (const uplink of b.uplinks) {
      for (const r of uplink.radio.receptions) {
        const key = `${r.gatewayId}\u0000${minute}`;
        let g = this.gateways.get(key);
        if (!g) this.gateways.set(key, (g = { gatewayId: r.gatewayId, minute: new Date(minute), uplinks: 0, rssiSum: 0, rssiCount: 0, snrSum: 0, snrCount: 0 }));
        g.uplinks += 1;
        if (r.rssiDbm !== null) { g.rssiSum += r.rssiDbm; g.rssiCount += 1; }
        if (r.snrDb !== null) { g.snrSum += r.snrDb; g.snrCount += 1; }
      }
    }
  }

  /** Writes what was counted; on failure keeps it for the next write. Never throws. */
  flush(): Promise<void> {
    this.writing ??= this.write().finally(() => (this.writing = null));
    return this.writing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.writing;
    await this.flush();
  }

  private async write(): Promise<void> {
    if (this.minutes.size === 0 && this.gateways.size === 0) return;
    const minutes = this.minutes;
    const gateways = this.gateways;
    this.minutes = new Map();
    this.gateways = new Map();
    let minutesWritten = false;
    let gatewaysWritten = false;
    try {
      await addIngestMinutes(this.options.pool, [...minutes.values()]);
      minutesWritten = true;
      await addConcentratorMinutes(this.options.pool, [...gateways.values()]);
      gatewaysWritten = true;
      if (Date.now() - this.lastPrune > 3_600_000) {
        this.lastPrune = Date.now();
        await deleteOpsHistoryBefore(this.options.pool, new Date(Date.now() - KEEP_MS));
      }
    } catch (error) {
      this.restore(minutesWritten ? new Map() : minutes, gatewaysWritten ? new Map() : gateways);
      this.options.log.warn({ err: error }, 'ops history not written; kept for the next minute');
    }
  }

  /** Puts totals that were not written back in front of what was counted meanwhile. */
  private restore(minutes: Map<number, IngestMinuteRow>, gateways: Map<string, ConcentratorMinuteRow>): void {
    for (const [minute, row] of minutes) {
      const now = this.minutes.get(minute);
      if (!now) this.minutes.set(minute, row);
      else {
        now.messages += row.messages; now.uplinks += row.uplinks; now.readings += row.readings; now.deadLetters += row.deadLetters;
        now.batches += row.batches; now.batchSecondsSum += row.batchSecondsSum; now.batchSecondsMax = Math.max(now.batchSecondsMax, row.batchSecondsMax);
      }
    }
    for (const [key, row] of gateways) {
      const now = this.gateways.get(key);
      if (!now) this.gateways.set(key, row);
      else {
        now.uplinks += row.uplinks; now.rssiSum += row.rssiSum; now.rssiCount += row.rssiCount; now.snrSum += row.snrSum; now.snrCount += row.snrCount;
      }
    }
    this.bound();
  }

  /** Drops the oldest minutes beyond maxMinutes (and their gateway rows). */
  private bound(): void {
    const max = this.options.maxMinutes ?? 1440;
    if (this.minutes.size <= max) return;
    const keep = [...this.minutes.keys()].sort((a, b) => a - b).slice(-max);
    const oldest = keep[0]!;
    for (const minute of this.minutes.keys()) if (minute < oldest) this.minutes.delete(minute);
    for (const [key, g] of this.gateways) if (g.minute.getTime() < oldest) this.gateways.delete(key);
  }
}
