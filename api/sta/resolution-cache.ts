/**
 * Datastreams resolved for the pages of one chain (issue 21). A client following
 * @iot.nextLink through a Datastream's Observations names the same Datastream on every
 * page, and resolving it (the Datastream view: asset, catalog, device, visibility) was a
 * statement of its own on each: 1.5 ms of PostgreSQL beside the page's own 3.5 ms
 * (EXPLAIN ANALYZE on `bench sta`'s city), and a round trip of the service.
 *
 * Trade-off: a continued page (one with a $skiptoken, which only a next link carries) takes
 * the resolution that a page of the same Datastream made at most `ttlMs` earlier, so a
 * Datastream hidden meanwhile keeps answering a client that was already paging through it
 * for that long. A request without $skiptoken always looks it up, and so refreshes the
 * entry; an entry is never extended by the pages that use it. Keyed by who asks
 * (anonymous or seeing all) and the Datastream's id.
 */
import type { Row } from '../../storage/index.js';

export class ResolutionCache {
  private readonly entries = new Map<string, { row: Row; atMs: number }>();

  constructor(
    /** How long a resolution serves continued pages, ms. Default 2,000. */
    private readonly ttlMs = 2_000,
    /** Entries kept; the oldest goes first. Default 1,000. */
    private readonly maxEntries = 1_000,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  get(key: string): Row | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (this.nowMs() - entry.atMs > this.ttlMs) {
      this.entries.delete(key);
      return null;
    }
    return entry.row;
  }

  set(key: string, row: Row): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { row, atMs: this.nowMs() });
  }
}
