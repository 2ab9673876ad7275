/**
 * The audit log: who did what, when, from where. Entries are written in small batches
 * (at most `flushMs` later) so that audited reads at thousands per second cost one
 * statement per batch, not per request. `flush()` on close writes what is pending.
 *
 * Changes are one row each. Reads are condensed (issue 26): a traffic-control screen
 * polls the same route every second, which was 86,000 rows a day of the same fact. All
 * reads of one actor, role, address, action and target within one `condenseMs` period
 * (an hour, aligned to the clock) share a row with the first and last time and a count,
 * so every reader and every address still has its own row for every hour it read.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { insertAuditEntries, upsertAuditReads, type AuditEntry, type AuditRead } from '../storage/index.js';

export type AuditRecord = Omit<AuditEntry, 'at'>;
export type AuditReadRecord = Omit<AuditEntry, 'at' | 'detail'>;

export class AuditLog {
  private pending: AuditEntry[] = [];
  private reads = new Map<string, AuditRead>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly pool: pg.Pool, private readonly log: Logger, private readonly flushMs = 100, private readonly condenseMs = 3_600_000) {}

  /** A change (or any event that must stand alone): one row. */
  record(entry: AuditRecord): void {
    this.pending.push({ ...entry, at: new Date() });
    this.schedule(this.pending.length);
  }

  /** A read: counted into the row of its actor, role, address, action, target and period. */
  read(entry: AuditReadRecord, at = new Date()): void {
    const period = Math.floor(at.getTime() / this.condenseMs);
    const id = JSON.stringify([entry.actor, entry.role, entry.remoteAddr, entry.action, entry.target, period]);
    this.merge(id, { ...entry, at, firstAt: at, count: 1, condenseKey: createHash('sha256').update(id).digest() });
    this.schedule(this.reads.size);
  }

  private merge(id: string, read: AuditRead): void {
    const known = this.reads.get(id);
    if (!known) {
      this.reads.set(id, read);
      return;
    }
    known.count += read.count;
    if (read.at > known.at) known.at = read.at;
    if (read.firstAt < known.firstAt) known.firstAt = read.firstAt;
  }

  private schedule(size: number): void {
    if (size >= 500) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes everything recorded so far. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const entries = this.pending;
    const reads = this.reads;
    this.pending = [];
    this.reads = new Map();
    this.writing = this.writing.then(async () => {
      if (entries.length === 0 && reads.size === 0) return;
      try {
        await insertAuditEntries(this.pool, entries);
        entries.length = 0;
        await upsertAuditReads(this.pool, [...reads.values()]);
      } catch (error) {
        // Keep them for the next attempt rather than losing the trail.
        this.pending.unshift(...entries);
        for (const [id, r] of reads) this.merge(id, r);
        this.log.error({ err: error, entries: entries.length, reads: reads.size }, 'audit log write failed; will retry');
        this.timer ??= setTimeout(() => void this.flush(), 1000);
      }
    });
    return this.writing;
  }
}
