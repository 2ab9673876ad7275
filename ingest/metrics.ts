/** Prometheus metrics of the ingest stage (stadtfunk_ingest_*). */
import { Counter, Gauge, Histogram, register } from 'prom-client';

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export const ingestMessages = once('stadtfunk_ingest_messages_total', () =>
  new Counter({ name: 'stadtfunk_ingest_messages_total', help: 'MQTT messages received by ingest', labelNames: ['source'] }));
const messagesBySource = new Map<string, ReturnType<typeof ingestMessages.labels>>();
/** The messages counter of one source, its labels hashed once (it is counted for every message). */
export function ingestMessagesOf(source: string): ReturnType<typeof ingestMessages.labels> {
  let child = messagesBySource.get(source);
  if (!child) messagesBySource.set(source, (child = ingestMessages.labels(source)));
  return child;
}
export const ingestUplinks = once('stadtfunk_ingest_uplinks_total', () =>
  new Counter({ name: 'stadtfunk_ingest_uplinks_total', help: 'Uplinks committed (new, not redeliveries)', labelNames: ['source'] }));
export const ingestDuplicates = once('stadtfunk_ingest_duplicate_uplinks_total', () =>
  new Counter({ name: 'stadtfunk_ingest_duplicate_uplinks_total', help: 'Uplinks already stored (redelivery, several workers)' }));
export const ingestDropped = once('stadtfunk_ingest_dropped_total', () =>
  new Counter({ name: 'stadtfunk_ingest_dropped_total', help: 'Messages dead-lettered, by reason', labelNames: ['reason'] }));
export const ingestReadings = once('stadtfunk_ingest_readings_total', () =>
  new Counter({ name: 'stadtfunk_ingest_readings_total', help: 'Readings committed' }));
/**
 * Read from the consumers when scraped, not set as messages arrive: set at arrival it kept
 * the count of the last arrival (32–108 seen) long after everything was acknowledged
 * (issue 26, item 7). More than one consumer in a process (tests) are added up.
 */
const inFlightSources = new Set<() => number>();
once('stadtfunk_ingest_in_flight_messages', () =>
  new Gauge({
    name: 'stadtfunk_ingest_in_flight_messages',
    help: 'Messages received and not yet acknowledged',
    collect() {
      let n = 0;
      for (const source of inFlightSources) n += source();
      this.set(n);
    },
  }));
/** Counts `inFlight` in the gauge until the returned function is called. */
export function countInFlight(inFlight: () => number): () => void {
  inFlightSources.add(inFlight);
  return () => inFlightSources.delete(inFlight);
}
export const storageBatchDuration = once('stadtfunk_storage_batch_duration_seconds', () =>
  new Histogram({
    name: 'stadtfunk_storage_batch_duration_seconds',
    help: 'Time to commit one ingest batch',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  }));
export const storageBatchFailures = once('stadtfunk_storage_batch_failures_total', () =>
  new Counter({ name: 'stadtfunk_storage_batch_failures_total', help: 'Batch commits that failed and will be retried' }));
