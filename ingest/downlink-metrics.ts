/** Prometheus metrics of joins and downlinks (stadtfunk_ingest_*), beside ingest's own. */
import { Counter, Histogram, register } from 'prom-client';

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export const joinsAccepted = once('stadtfunk_ingest_joins_total', () =>
  new Counter({ name: 'stadtfunk_ingest_joins_total', help: 'OTAA join-requests answered with a join-accept (recorded once across workers)' }));
export const joinCopies = once('stadtfunk_ingest_join_copies_total', () =>
  new Counter({ name: 'stadtfunk_ingest_join_copies_total', help: 'Copies of join-requests another worker or an earlier batch answered' }));
export const downlinksPublished = once('stadtfunk_ingest_downlinks_total', () =>
  new Counter({ name: 'stadtfunk_ingest_downlinks_total', help: 'Downlinks published to concentrators, by kind', labelNames: ['kind'] }));
export const downlinksLost = once('stadtfunk_ingest_downlinks_lost_total', () =>
  new Counter({ name: 'stadtfunk_ingest_downlinks_lost_total', help: 'Downlinks without an event/ack from the gateway bridge in time (NO_ACK)' }));
export const downlinkTxAcks = once('stadtfunk_ingest_downlink_acks_total', () =>
  new Counter({ name: 'stadtfunk_ingest_downlink_acks_total', help: 'Gateway bridge answers to downlinks, by status', labelNames: ['status'] }));
export const downlinkSchedule = once('stadtfunk_ingest_downlink_schedule_seconds', () =>
  new Histogram({
    name: 'stadtfunk_ingest_downlink_schedule_seconds',
    help: 'From the close of an uplink\'s dedup window to the publication of its downlink',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  }));
