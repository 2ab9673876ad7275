/**
 * Times for uplinks whose source gave none (`Uplink.localTime`): this service's clock,
 * made distinct per device. Readings are keyed by (device, metric, channel, time), so two
 * such uplinks of one device stamped in the same millisecond (a burst, a redelivered
 * backlog) would share their readings' keys; the later one is moved on by a millisecond
 * instead. The clock is ours in any case, and the uplink's identity does not depend on it
 * (the writer claims it), so a redelivery stamped differently is still recognised.
 */
const MAX_REMEMBERED_DEVICES = 100_000;

export class DistinctDeviceClock {
  /** Last time handed out per device, epoch ms. */
  private readonly last = new Map<string, number>();

  /** `at`, or the millisecond after the last time handed to this device if `at` is not later. */
  stamp(devEui: string, at: Date): Date {
    const previous = this.last.get(devEui);
    const ms = previous !== undefined && at.getTime() <= previous ? previous + 1 : at.getTime();
    // Forgetting all at once is safe: a device then collides only within the same millisecond again.
    if (previous === undefined && this.last.size >= MAX_REMEMBERED_DEVICES) this.last.clear();
    this.last.set(devEui, ms);
    return ms === at.getTime() ? at : new Date(ms);
  }
}
