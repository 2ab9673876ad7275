/**
 * Parking zones' occupancy over time: the Observations of each zone Thing's free_spaces
 * and total_spaces Datastreams (docs/sensorthings.md).
 *
 * Design note. A zone has no sensor of its own, and its total now is computed from its
 * bays' latest readings (what /api/v1/open/parking/zones answers); its history exists only
 * where someone kept it. So every service samples all zones at each interval boundary
 * into zone_occupancy_samples, keyed by zone and the interval's start on the database's
 * clock (storage/sta/zone-samples.ts): a second instance, or this one after a restart
 * within the interval, writes the same keys and changes nothing. History therefore starts
 * when a service first sampled and has a gap for every interval in which none ran. A
 * failed sample is logged and counted (stadtfunk_sta_zone_sample_failures_total) and the
 * next interval samples again; the interval it missed stays a gap unless another instance
 * sampled it.
 *
 * The instance whose statement wrote a sample publishes it over MQTT, as ingest publishes
 * a reading: on the topics of the zone's raw Datastreams, its Thing, its
 * FeatureOfInterest and v1.1/Observations, JSON as GET answers it.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { datastreamId, emptyOptions, ENTITY_TYPES, sampleZones, thingId, ZONE_METRICS, zoneKey, type Row, type ZoneSample } from '../../storage/index.js';
import { staZoneSampleFailures, staZoneSamples } from './metrics.js';
import { observationTargets, type StaTransport } from './mqtt-transport.js';
import { entityJson, type Links } from './serialize.js';

/** Origin of the sampling intervals (date_bin's in storage/sta/zone-samples.ts). */
const ORIGIN_MS = Date.UTC(2000, 0, 1);

export interface ZoneSamplerOptions {
  pool: pg.Pool;
  log: Logger;
  /** Sampling interval, ms (STA_ZONE_SAMPLE_INTERVAL_MS). */
  intervalMs: number;
  /** A bay whose newest `occupied` reading is older counts as unknown (PARKING_STALE_AFTER_S). */
  staleAfterS: number;
  transport: StaTransport;
  links: Links;
}

export class ZoneSampler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;

  constructor(private readonly options: ZoneSamplerOptions) {}

  /** Samples now (the current interval), then just after each interval boundary. */
  start(): void {
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One sampling run: writes the interval's samples where missing and publishes those it wrote. */
  async sample(): Promise<ZoneSample[]> {
    const samples = await sampleZones(this.options.pool, { intervalMs: this.options.intervalMs, staleAfterS: this.options.staleAfterS });
    const written = samples.filter((s) => s.written);
    staZoneSamples.inc({ result: 'written' }, written.length);
    staZoneSamples.inc({ result: 'present' }, samples.length - written.length);
    this.publish(written);
    return samples;
  }

  private tick(): void {
    if (this.stopped) return;
    this.running = this.sample().catch((error) => {
      staZoneSampleFailures.inc();
      this.options.log.error({ err: error }, 'SensorThings: sampling zone occupancy failed; this interval has no sample from this instance');
    }).finally(() => {
      this.running = null;
      if (this.stopped) return;
      // Just after the next boundary: a clock a little behind the database's still lands in the new interval.
      const interval = this.options.intervalMs;
      const now = Date.now();
      const next = ORIGIN_MS + Math.floor((now - ORIGIN_MS) / interval + 1) * interval + Math.min(1000, interval / 10);
      this.timer = setTimeout(() => this.tick(), next - now);
    });
  }

  private publish(written: readonly ZoneSample[]): void {
    const t = this.options.transport;
    let sent = false;
    for (const sample of written) {
      const key = zoneKey(sample.zone);
      const thing = thingId(key);
      const micros = sample.time.getTime() * 1000;
      for (const metric of ZONE_METRICS) {
        const d = datastreamId('raw', key, metric, '');
        const row: Row = {
          datastream_id: d, level: 'raw', asset_id: key, t0: micros, t1: micros, result_time: micros,
          value: metric === 'free_spaces' ? sample.free : sample.bays, quality: 'ok', result_quality: null,
          parameters: { occupied: sample.occupied, unknown: sample.unknown },
        };
        for (const target of observationTargets(t, d, thing, sample.featureId)) {
          t.publish(target.topic, JSON.stringify(entityJson(ENTITY_TYPES.Observation, row, target.select ? { ...emptyOptions(), select: target.select } : emptyOptions(), this.options.links, true)));
          sent = true;
        }
      }
    }
    if (sent) t.flush();
  }
}
