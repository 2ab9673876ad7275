/**
 * The audit log: who did what, when, from where. Entries are written in small batches
 * (at most `flushMs` later) so that audited reads at thousands per second cost one
 * insert per batch, not per request. `flush()` on close writes what is pending.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { insertAuditEntries, type AuditEntry } from '../storage/index.js';

export class AuditLog {
  private pending: AuditEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly pool: pg.Pool, private readonly log: Logger, private readonly flushMs = 100) {}

  record(entry: Omit<AuditEntry, 'at'>): void {
    this.pending.push({ ...entry, at: new Date() });
    if (this.pending.length >= 500) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes everything recorded so far. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const entries = this.pending;
    this.pending = [];
    this.writing = this.writing.then(async () => {
      if (entries.length === 0) return;
      try {
        await insertAuditEntries(this.pool, entries);
      } catch (error) {
        // Keep them for the next attempt rather than losing the trail.
        this.pending.unshift(...entries);
        this.log.error({ err: error, entries: entries.length }, 'audit log write failed; will retry');
        this.timer ??= setTimeout(() => void this.flush(), 1000);
      }
    });
    return this.writing;
  }
}
