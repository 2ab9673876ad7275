/**
 * The downlink chores every ingest worker runs on a timer:
 *
 * - downlinks that got no event/ack in time are marked lost (NO_ACK) and their
 *   application downlink goes back to the queue (or fails after its attempts);
 * - queued application downlinks of devices behind ChirpStack or The Things Stack are
 *   claimed (locked rows skipped, so each goes to one worker) and published to their
 *   downlink topics after the claim commits. They do not wait for an uplink: the network
 *   server keeps its own queue and sends them in the device's next receive window.
 *
 * Both statements are safe to run on every worker at once.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { claimNetworkServerItems, expireDownlinks, inTransaction, releaseQueueItems } from '../storage/index.js';
import * as metrics from './downlink-metrics.js';
import type { DownlinkPublisher } from './outgoing-downlinks.js';
import { chirpstackDownlinkCommand, ttsDownlinkPush } from './sources/network-server-downlinks.js';

export interface DownlinkMaintenanceOptions {
  pool: pg.Pool;
  publisher: DownlinkPublisher;
  log: Logger;
  ackTimeoutMs: number;
  maxAttempts: number;
  /** How often the chores run. Default 1000 ms. */
  intervalMs?: number;
}

const CLAIM_LIMIT = 200;

export class DownlinkMaintenance {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly options: DownlinkMaintenanceOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick().finally(() => (this.running = null));
    }, this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One round of the chores; errors (the database away) are logged and tried again next round. */
  async tick(): Promise<void> {
    try {
      const lost = await expireDownlinks(this.options.pool, this.options.ackTimeoutMs, this.options.maxAttempts);
      if (lost > 0) {
        metrics.downlinksLost.inc(lost);
        this.options.log.info({ lost }, 'downlinks without an answer from the gateway bridge marked lost');
      }
      if (!this.options.publisher.connected()) return;
      const items = await inTransaction(this.options.pool, (client) => claimNetworkServerItems(client, CLAIM_LIMIT));
      const failed: number[] = [];
      for (const item of items) {
        const payload = item.route === 'chirpstack' ? chirpstackDownlinkCommand(item) : ttsDownlinkPush(item);
        await this.options.publisher.publishRaw(item.topic, payload).catch((error: Error) => {
          failed.push(item.id);
          this.options.log.warn({ reason: error.message, devEui: item.devEui, queueId: item.id }, 'downlink to the network server not published; back in the queue');
        });
      }
      await releaseQueueItems(this.options.pool, failed);
    } catch (error) {
      this.options.log.warn({ reason: (error as Error).message }, 'downlink chores failed; trying again');
    }
  }
}
