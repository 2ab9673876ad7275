/**
 * SensorThings over MQTT, subscribe side (OGC 18-088 §14.2): after each committed ingest
 * batch, its new public readings go out as Observations, JSON as GET would answer them.
 *
 * Design note. This runs on ingest's path, once per committed batch (up to ~16,000
 * readings), and a city has hundreds of thousands of series, so what it keeps per series
 * is a slot in a SeriesTable (series-table.ts): the Datastream id, the oldest reading and
 * the device, about 70 bytes. A reading of a known series costs two Map lookups. On the
 * embedded broker the topics of a series that have an audience are cached (bounded, and
 * dropped when subscriptions change); on an external broker they are a fixed pattern and
 * made per reading. New series are written to the catalogue (sta_datastreams) off the
 * ingest transaction, after it, in chunks, and announced as Datastreams with one read per
 * chunk: a city's first minutes make every series new at once. A chunk that fails (a lock
 * timeout, a deadlock, the database away) keeps its series known and writes them again at
 * the next registry poll; their readings are committed, so such a failure passes.
 * Forgetting them would lose what the catch-up from latest state cannot restore: an older
 * first reading, or another device, of a series catalogued already.
 *
 * Topics per reading of Datastream D of Thing T at FeatureOfInterest F, each also with
 * `?$select=…` on the embedded broker:
 *   v1.1/Datastreams(D)/Observations          (external broker: STA_MQTT_TOPICS datastreams)
 *   v1.1/Observations                          (observations)
 *   v1.1/Things(T)/Datastreams(D)/Observations, v1.1/Things(T)/Datastreams/Observations  (things)
 *   v1.1/FeaturesOfInterest(F)/Observations    (features)
 * Registry changes go out too, polled every `registryPollMs`: a new Datastream on
 * v1.1/Datastreams and v1.1/Things(T)/Datastreams, a changed Thing on v1.1/Things and
 * v1.1/Things(T), a move on v1.1/HistoricalLocations, v1.1/Things(T)/HistoricalLocations,
 * v1.1/Locations and v1.1/Things(T)/Locations.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { ENTITY_TYPES, StaReader, catchUpSeries, emptyOptions, thingId, upsertSeries, type NewDatastream, type ReadingRow, type Row, type StaMetric, type WriteBatch, type WriteResult } from '../../storage/index.js';
import { staSeriesRegistered } from './metrics.js';
import { observationTargets, type StaTransport, type Target } from './mqtt-transport.js';
import { SeriesTable } from './series-table.js';
import { entityJson, ObservationEncoder, type Links } from './serialize.js';

/** External broker: which Observation topics go out, the same for every series (STA_MQTT_TOPICS). */
interface FixedTopics {
  datastream: boolean;
  all: boolean;
  thingDatastream: boolean;
  thing: boolean;
  feature: boolean;
}

interface AssetInfo {
  public: boolean;
  thingId: number;
  featureId: number | null;
}

/** Series written to the catalogue per statement (and announced per read). */
const REGISTER_CHUNK = 2000;
/** Series whose topics the embedded transport keeps at most; then the cache starts over. */
const TARGET_CACHE = 16_384;

export interface StaPublisherOptions {
  pool: pg.Pool;
  log: Logger;
  transport: StaTransport;
  links: Links;
  metrics: readonly StaMetric[];
  timescale: boolean;
  /** How often registry changes and series written elsewhere are picked up. Default 10,000 ms. */
  registryPollMs?: number;
}

export class StaMqttPublisher {
  private readonly series = new SeriesTable();
  private assets = new Map<string, AssetInfo>();
  private readonly publicMetrics: ReadonlySet<string>;
  /** Slots to write to the catalogue (new series, or an older first reading, another device). */
  private readonly pending = new Set<number>();
  /** Slots whose chunk failed: back into `pending` at the next registry poll. */
  private readonly retry = new Set<number>();
  /** Embedded broker: the topics with an audience per slot, for subscriptions `version`. */
  private readonly targetCache = new Map<number, Target[]>();
  private targetVersion = -1;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private assetsRefresh: Promise<void> | null = null;
  private lastPoll = new Date();
  private stopped = false;

  /**
   * External broker: its topics, asked once. Its interest depends on a topic's kind alone
   * (it cannot see subscriptions), so a reading's topics are made without asking it and
   * without a Target per topic: at 50,000 Observations a second that is work ingest's
   * thread no longer does (`bench sta`).
   */
  private readonly fixed: FixedTopics | null;

  constructor(private readonly options: StaPublisherOptions) {
    this.publicMetrics = new Set(options.metrics.filter((m) => m.public).map((m) => m.id));
    const t = options.transport;
    this.fixed = t.kind === 'external'
      ? {
          datastream: t.interested('v1.1/Datastreams(1)/Observations'),
          all: t.interested('v1.1/Observations'),
          thingDatastream: t.interested('v1.1/Things(1)/Datastreams(1)/Observations'),
          thing: t.interested('v1.1/Things(1)/Datastreams/Observations'),
          feature: t.interested('v1.1/FeaturesOfInterest(1)/Observations'),
        }
      : null;
  }

  /** Loads the catalogue and the assets, catches up series, and starts polling the registry. */
  async start(): Promise<void> {
    const { pool } = this.options;
    await catchUpSeries(pool).catch((error) => this.options.log.warn({ err: error }, 'SensorThings: series catch-up failed'));
    const { rows } = await pool.query<{ asset_id: string; metric: string; channel: string; dev_eui: string; first_ms: number }>(
      `select asset_id, metric, channel, dev_eui, (extract(epoch from first_time) * 1000)::float8 as first_ms from sta_datastreams where level = 'raw'`,
    );
    for (const r of rows) this.series.add(r.asset_id, r.metric, r.channel, r.dev_eui, r.first_ms);
    await this.refreshAssets();
    this.lastPoll = new Date();
    const poll = async (): Promise<void> => {
      this.registerAgain();
      try {
        await this.pollRegistry();
      } catch (error) {
        this.options.log.warn({ err: error }, 'SensorThings: registry poll failed');
      }
      if (!this.stopped) this.timer = setTimeout(() => void poll(), this.options.registryPollMs ?? 10_000);
    };
    this.timer = setTimeout(() => void poll(), this.options.registryPollMs ?? 10_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.flushing;
    await this.options.transport.close();
  }

  /** Public flag, Thing and current FeatureOfInterest of every asset. */
  private refreshAssets(): Promise<void> {
    this.assetsRefresh ??= (async () => {
      try {
        const { rows } = await this.options.pool.query<{ id: string; is_public: boolean; feature_id: number | null }>(
          `select a.id, a.is_public, (select l.feature_id from asset_locations l where l.asset_id = a.id order by l.since desc limit 1) as feature_id from assets a`,
        );
        this.assets = new Map(rows.map((r) => [r.id, { public: r.is_public, thingId: thingId(r.id), featureId: r.feature_id === null ? null : Number(r.feature_id) }]));
        this.targetCache.clear();
      } finally {
        this.assetsRefresh = null;
      }
    })();
    return this.assetsRefresh;
  }

  /** The topics of a series that have an audience now. */
  private targets(slot: number, asset: AssetInfo): Target[] {
    const t = this.options.transport;
    const cache = t.kind === 'embedded';
    if (cache) {
      if (t.version() !== this.targetVersion) {
        this.targetCache.clear();
        this.targetVersion = t.version();
      }
      const hit = this.targetCache.get(slot);
      if (hit) return hit;
    }
    const targets = observationTargets(t, this.series.datastreamId(slot), asset.thingId, asset.featureId);
    if (cache) {
      if (this.targetCache.size >= TARGET_CACHE) this.targetCache.clear();
      this.targetCache.set(slot, targets);
    }
    return targets;
  }

  /** After each committed batch: register new series, publish new public readings. */
  onCommitted(batch: WriteBatch, result: WriteResult): void {
    if (this.stopped) return;
    const inserted = result.inserted;
    for (const r of batch.readings) {
      if (r.assetId === null || r.uplinkId === null || !inserted.has(r.uplinkId)) continue;
      this.reading(r);
    }
    this.options.transport.flush();
    if (this.pending.size > 0) this.flushing ??= this.register();
  }

  private reading(r: ReadingRow): void {
    const assetId = r.assetId!;
    const ms = r.time.getTime();
    let slot = this.series.find(assetId, r.metric, r.channel);
    if (slot < 0) {
      slot = this.series.add(assetId, r.metric, r.channel, r.devEui, ms);
      this.pending.add(slot);
    } else if (this.series.update(slot, r.devEui, ms)) {
      this.pending.add(slot);
    }
    if (!this.publicMetrics.has(r.metric)) return;
    const asset = this.assets.get(assetId);
    if (!asset) {
      void this.refreshAssets().catch(() => undefined);
      return;
    }
    if (!asset.public) return;
    if (this.fixed) return this.publishFixed(this.fixed, slot, asset, r, ms);
    const targets = this.targets(slot, asset);
    if (targets.length === 0) return;
    let fields: [string, string, string, string] | null = null;
    let encoder: ObservationEncoder | null = null;
    for (const target of targets) {
      if (target.select === null) {
        fields ??= ObservationEncoder.fields(ms, r.value, r.quality);
        encoder ??= new ObservationEncoder(this.options.links, this.series.datastreamId(slot));
        this.options.transport.publishObservation(target.topic, encoder, fields);
      } else {
        this.options.transport.publish(target.topic, JSON.stringify(entityJson(ENTITY_TYPES.Observation, this.row(slot, r, ms), { ...emptyOptions(), select: target.select }, this.options.links, true)));
      }
    }
  }

  /** External broker: the reading on each topic STA_MQTT_TOPICS names. */
  private publishFixed(f: FixedTopics, slot: number, asset: AssetInfo, r: ReadingRow, ms: number): void {
    if (!f.datastream && !f.all && !f.thingDatastream && !f.thing && !(f.feature && asset.featureId !== null)) return;
    const t = this.options.transport;
    const d = this.series.datastreamId(slot);
    const encoder = new ObservationEncoder(this.options.links, d);
    const fields = ObservationEncoder.fields(ms, r.value, r.quality);
    if (f.datastream) t.publishObservation(`v1.1/Datastreams(${encoder.datastream})/Observations`, encoder, fields);
    if (f.all) t.publishObservation('v1.1/Observations', encoder, fields);
    if (f.thingDatastream) t.publishObservation(`v1.1/Things(${asset.thingId})/Datastreams(${encoder.datastream})/Observations`, encoder, fields);
    if (f.thing) t.publishObservation(`v1.1/Things(${asset.thingId})/Datastreams/Observations`, encoder, fields);
    if (f.feature && asset.featureId !== null) t.publishObservation(`v1.1/FeaturesOfInterest(${asset.featureId})/Observations`, encoder, fields);
  }

  /** The row GET reads for this reading (serialize.ts turns it into the same JSON). */
  private row(slot: number, r: ReadingRow, ms: number): Row {
    const micros = ms * 1000;
    return { datastream_id: this.series.datastreamId(slot), level: 'raw', asset_id: r.assetId, t0: micros, t1: micros, result_time: micros, value: r.value, quality: r.quality, result_quality: r.quality === 'ok' ? null : r.quality, parameters: null };
  }

  /** Writes pending series to the catalogue, then announces the new Datastreams. */
  private async register(): Promise<void> {
    await Promise.resolve();
    try {
      while (this.pending.size > 0) {
        const chunk: number[] = [];
        for (const slot of this.pending) {
          chunk.push(slot);
          if (chunk.length >= REGISTER_CHUNK) break;
        }
        for (const slot of chunk) this.pending.delete(slot);
        let created: NewDatastream[];
        try {
          created = await upsertSeries(this.options.pool, chunk.map((slot) => this.series.key(slot)));
          staSeriesRegistered.inc(chunk.length);
        } catch (error) {
          // Readings committed meanwhile may have put some of them back in `pending`: they
          // wait for the retry with the rest, and the next chunk is written without them.
          for (const slot of chunk) {
            this.pending.delete(slot);
            this.retry.add(slot);
          }
          this.options.log.warn({ err: error, series: chunk.length }, 'SensorThings: registering series failed; retrying at the next poll');
          continue;
        }
        await this.announceDatastreams(created).catch((error) => this.options.log.warn({ err: error }, 'SensorThings: announcing Datastreams failed'));
      }
    } finally {
      this.flushing = null;
    }
  }

  /** Series whose chunk failed go to the catalogue again. */
  private registerAgain(): void {
    if (this.retry.size === 0 || this.stopped) return;
    for (const slot of this.retry) this.pending.add(slot);
    this.retry.clear();
    this.flushing ??= this.register();
  }

  /** Datastreams the catalogue just created, on v1.1/Datastreams and v1.1/Things(T)/Datastreams. */
  private async announceDatastreams(created: readonly NewDatastream[]): Promise<void> {
    const t = this.options.transport;
    const all = t.interested('v1.1/Datastreams');
    const ids = created.filter((d) => {
      const asset = this.assets.get(d.assetId);
      return asset?.public && this.publicMetrics.has(d.metric) && (all || t.interested(`v1.1/Things(${asset.thingId})/Datastreams`));
    }).map((d) => d.id);
    for (let from = 0; from < ids.length; from += 3 * REGISTER_CHUNK) {
      for (const row of await this.read('Datastream', ids.slice(from, from + 3 * REGISTER_CHUNK))) {
        const json = JSON.stringify(entityJson(ENTITY_TYPES.Datastream, row, emptyOptions(), this.options.links, true));
        if (all) t.publish('v1.1/Datastreams', json);
        const perThing = `v1.1/Things(${this.assets.get(row.asset_id as string)?.thingId ?? thingId(row.asset_id as string)})/Datastreams`;
        if (t.interested(perThing)) t.publish(perThing, json);
      }
      t.flush();
    }
  }

  /** Anonymous rows of `type` among `ids` (what an anonymous GET would show), in one read. */
  private async read(type: keyof typeof ENTITY_TYPES, ids: number[]): Promise<Row[]> {
    if (ids.length === 0) return [];
    const client = await this.options.pool.connect();
    try {
      return await new StaReader(client, { all: false, timescale: this.options.timescale, metrics: this.options.metrics }).entities(ENTITY_TYPES[type], ids);
    } finally {
      client.release();
    }
  }

  /** Registry changes since the last poll: changed Things, moves, series written elsewhere. */
  private async pollRegistry(): Promise<void> {
    const since = this.lastPoll;
    const now = new Date();
    const { pool } = this.options;
    const caughtUp = await catchUpSeries(pool);
    const changed = await pool.query<{ id: string }>('select id from assets where updated_at > $1 and updated_at <= $2 and is_public', [since, now]);
    const moves = await pool.query<{ asset_id: string; location_id: number; historical_location_id: number }>(
      'select asset_id, location_id, historical_location_id from asset_locations where since > $1 and since <= $2', [since, now]);
    this.lastPoll = now;
    if (changed.rows.length > 0 || moves.rows.length > 0) await this.refreshAssets();
    await this.announceDatastreams(caughtUp);
    const t = this.options.transport;
    for (const row of await this.read('Thing', changed.rows.map((r) => thingId(r.id)))) {
      const json = JSON.stringify(entityJson(ENTITY_TYPES.Thing, row, emptyOptions(), this.options.links, true));
      for (const topic of ['v1.1/Things', `v1.1/Things(${row.id})`]) if (t.interested(topic)) t.publish(topic, json);
    }
    for (const move of moves.rows) {
      const thing = thingId(move.asset_id);
      for (const [type, id, topics] of [
        ['HistoricalLocation', Number(move.historical_location_id), ['v1.1/HistoricalLocations', `v1.1/Things(${thing})/HistoricalLocations`]],
        ['Location', Number(move.location_id), ['v1.1/Locations', `v1.1/Things(${thing})/Locations`]],
      ] as const) {
        const audience = topics.filter((topic) => t.interested(topic));
        if (audience.length === 0) continue;
        for (const row of await this.read(type, [id])) {
          const json = JSON.stringify(entityJson(ENTITY_TYPES[type], row, emptyOptions(), this.options.links, true));
          for (const topic of audience) t.publish(topic, json);
        }
      }
    }
    t.flush();
  }
}
