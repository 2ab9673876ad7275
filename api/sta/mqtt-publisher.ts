/**
 * SensorThings over MQTT, subscribe side (OGC 18-088 §14.2): after each committed ingest
 * batch, its new public readings go out as Observations, JSON as GET would answer them.
 *
 * Design note. This runs on ingest's path, once per committed batch (up to ~16,000
 * readings), so it keeps per-series state instead of working per reading: a cache keyed
 * asset → metric → channel holds each series' Datastream and Thing ids, whether open data
 * may show it, the JSON prefix of its Observations, and the topics that currently have
 * an audience (recomputed only when subscriptions change). A reading of a series nobody
 * listens to costs three Map lookups. The same walk registers series the catalogue does
 * not know yet (sta_datastreams, written off the ingest transaction, after it).
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
import { ENTITY_TYPES, StaReader, catchUpSeries, datastreamId, emptyOptions, thingId, upsertSeries, type ReadingRow, type Row, type SeriesKey, type StaMetric, type WriteBatch, type WriteResult } from '../../storage/index.js';
import { staSeriesRegistered } from './metrics.js';
import { staTopic, type StaTopic, type StaTransport } from './mqtt-transport.js';
import { entityJson, ObservationEncoder, type Links } from './serialize.js';

interface Target {
  topic: StaTopic;
  /** $select of the topic; null: the whole Observation. */
  select: string[] | null;
}

interface Series {
  assetId: string;
  metric: string;
  channel: string;
  devEui: string;
  firstMs: number;
  datastreamId: number;
  /** Writes this series' Observations as payload bytes. */
  encoder: ObservationEncoder;
  topics: { version: number; targets: Target[] } | null;
}

interface AssetInfo {
  public: boolean;
  thingId: number;
  featureId: number | null;
}

/** Series written to the catalogue per statement. */
const REGISTER_CHUNK = 2000;

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
  private readonly series = new Map<string, Map<string, Map<string, Series>>>();
  private assets = new Map<string, AssetInfo>();
  private readonly publicMetrics: ReadonlySet<string>;
  /** Series to write to the catalogue; `fresh`: new here (announced as Datastreams after). */
  private readonly pending = new Map<Series, { key: SeriesKey; fresh: boolean }>();
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private assetsRefresh: Promise<void> | null = null;
  private lastPoll = new Date();
  private stopped = false;

  constructor(private readonly options: StaPublisherOptions) {
    this.publicMetrics = new Set(options.metrics.filter((m) => m.public).map((m) => m.id));
  }

  /** Loads the catalogue and the assets, catches up series, and starts polling the registry. */
  async start(): Promise<void> {
    const { pool } = this.options;
    await catchUpSeries(pool).catch((error) => this.options.log.warn({ err: error }, 'SensorThings: series catch-up failed'));
    const { rows } = await pool.query<{ asset_id: string; metric: string; channel: string; dev_eui: string; first_ms: number }>(
      `select asset_id, metric, channel, dev_eui, (extract(epoch from first_time) * 1000)::float8 as first_ms from sta_datastreams where level = 'raw'`,
    );
    for (const r of rows) this.remember(r.asset_id, r.metric, r.channel, r.dev_eui, r.first_ms);
    await this.refreshAssets();
    this.lastPoll = new Date();
    const poll = async (): Promise<void> => {
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

  private remember(assetId: string, metric: string, channel: string, devEui: string, firstMs: number): Series {
    let byMetric = this.series.get(assetId);
    if (!byMetric) this.series.set(assetId, (byMetric = new Map()));
    let byChannel = byMetric.get(metric);
    if (!byChannel) byMetric.set(metric, (byChannel = new Map()));
    const id = datastreamId('raw', assetId, metric, channel);
    const s: Series = { assetId, metric, channel, devEui, firstMs, datastreamId: id, encoder: new ObservationEncoder(this.options.links, id), topics: null };
    byChannel.set(channel, s);
    return s;
  }

  /** Public flag, Thing and current FeatureOfInterest of every asset. */
  private refreshAssets(): Promise<void> {
    this.assetsRefresh ??= (async () => {
      try {
        const { rows } = await this.options.pool.query<{ id: string; is_public: boolean; feature_id: number | null }>(
          `select a.id, a.is_public, (select l.feature_id from asset_locations l where l.asset_id = a.id order by l.since desc limit 1) as feature_id from assets a`,
        );
        this.assets = new Map(rows.map((r) => [r.id, { public: r.is_public, thingId: thingId(r.id), featureId: r.feature_id === null ? null : Number(r.feature_id) }]));
        for (const byMetric of this.series.values()) for (const byChannel of byMetric.values()) for (const s of byChannel.values()) s.topics = null;
      } finally {
        this.assetsRefresh = null;
      }
    })();
    return this.assetsRefresh;
  }

  /** The topics of a series that have an audience now (cached until subscriptions change). */
  private targets(s: Series, asset: AssetInfo): Target[] {
    const t = this.options.transport;
    const version = t.version();
    if (s.topics && s.topics.version === version) return s.topics.targets;
    const d = s.datastreamId;
    const candidates = [
      `v1.1/Datastreams(${d})/Observations`,
      'v1.1/Observations',
      `v1.1/Things(${asset.thingId})/Datastreams(${d})/Observations`,
      `v1.1/Things(${asset.thingId})/Datastreams/Observations`,
      ...(asset.featureId !== null ? [`v1.1/FeaturesOfInterest(${asset.featureId})/Observations`] : []),
    ];
    const targets: Target[] = [];
    for (const topic of candidates) {
      if (t.interested(topic)) targets.push({ topic: staTopic(topic), select: null });
      for (const variant of t.selectVariants(topic)) {
        targets.push({ topic: staTopic(variant), select: decodeURIComponent(variant.slice(variant.indexOf('?$select=') + 9)).split(',').map((x) => x.trim()).filter(Boolean) });
      }
    }
    s.topics = { version, targets };
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
    let s = this.series.get(assetId)?.get(r.metric)?.get(r.channel);
    if (!s) {
      s = this.remember(assetId, r.metric, r.channel, r.devEui, ms);
      this.pending.set(s, { key: { assetId, metric: r.metric, channel: r.channel, devEui: r.devEui, firstTime: r.time }, fresh: true });
    } else if (s.devEui !== r.devEui || ms < s.firstMs) {
      s.devEui = r.devEui;
      s.firstMs = Math.min(s.firstMs, ms);
      const fresh = this.pending.get(s)?.fresh ?? false;
      this.pending.set(s, { key: { assetId, metric: r.metric, channel: r.channel, devEui: r.devEui, firstTime: new Date(s.firstMs) }, fresh });
    }
    if (!this.publicMetrics.has(r.metric)) return;
    const asset = this.assets.get(assetId);
    if (!asset) {
      void this.refreshAssets().catch(() => undefined);
      return;
    }
    if (!asset.public) return;
    const targets = this.targets(s, asset);
    if (targets.length === 0) return;
    let fields: [string, string, string, string] | null = null;
    for (const target of targets) {
      if (target.select === null) {
        fields ??= ObservationEncoder.fields(ms, r.value, r.quality);
        this.options.transport.publishObservation(target.topic, s.encoder, fields);
      } else {
        this.options.transport.publish(target.topic, JSON.stringify(entityJson(ENTITY_TYPES.Observation, this.row(s, r, ms), { ...emptyOptions(), select: target.select }, this.options.links, true)));
      }
    }
  }

  /** The row GET reads for this reading (serialize.ts turns it into the same JSON). */
  private row(s: Series, r: ReadingRow, ms: number): Row {
    const micros = ms * 1000;
    return { datastream_id: s.datastreamId, level: 'raw', asset_id: s.assetId, t0: micros, t1: micros, result_time: micros, value: r.value, quality: r.quality, result_quality: r.quality === 'ok' ? null : r.quality, parameters: null };
  }

  /** Writes pending series to the catalogue, then announces the new Datastreams. */
  private async register(): Promise<void> {
    await Promise.resolve();
    try {
      while (this.pending.size > 0) {
        // In chunks: a city's first minutes make every series new at once (20,000 devices,
        // 153,000 series in `bench ingest`), and one statement for all of them held its
        // parameter arrays and their text beside ingest's own memory, past the 256 MB heap.
        const batch: [Series, { key: SeriesKey; fresh: boolean }][] = [];
        for (const entry of this.pending) {
          batch.push(entry);
          if (batch.length >= REGISTER_CHUNK) break;
        }
        for (const [s] of batch) this.pending.delete(s);
        const fresh = batch.filter(([, p]) => p.fresh).map(([s]) => s);
        try {
          await upsertSeries(this.options.pool, batch.map(([, p]) => p.key));
          staSeriesRegistered.inc(batch.length);
        } catch (error) {
          // Forget them: the next reading of each tries again; the minute's catch-up as well.
          for (const [s] of batch) this.series.get(s.assetId)?.get(s.metric)?.delete(s.channel);
          this.options.log.warn({ err: error, series: batch.length }, 'SensorThings: registering series failed');
          continue;
        }
        await this.announceDatastreams(fresh).catch((error) => this.options.log.warn({ err: error }, 'SensorThings: announcing Datastreams failed'));
      }
    } finally {
      this.flushing = null;
    }
  }

  private async announceDatastreams(series: Series[]): Promise<void> {
    const t = this.options.transport;
    const wanted = series.filter((s) => {
      const asset = this.assets.get(s.assetId);
      return asset?.public && this.publicMetrics.has(s.metric) && (t.interested('v1.1/Datastreams') || t.interested(`v1.1/Things(${asset.thingId})/Datastreams`));
    });
    if (wanted.length === 0) return;
    const ids = wanted.flatMap((s) => (['raw', 'hour', 'day'] as const).map((level) => datastreamId(level, s.assetId, s.metric, s.channel)));
    for (const row of await this.read('Datastream', ids)) {
      const json = JSON.stringify(entityJson(ENTITY_TYPES.Datastream, row, emptyOptions(), this.options.links, true));
      const thing = thingId(row.asset_id as string);
      for (const topic of ['v1.1/Datastreams', `v1.1/Things(${thing})/Datastreams`]) if (t.interested(topic)) t.publish(staTopic(topic), json);
    }
    t.flush();
  }

  /** Anonymous rows of `type` by id (what an anonymous GET would show). */
  private async read(type: keyof typeof ENTITY_TYPES, ids: number[]): Promise<Row[]> {
    const client = await this.options.pool.connect();
    try {
      const reader = new StaReader(client, { all: false, timescale: this.options.timescale, metrics: this.options.metrics });
      const rows: Row[] = [];
      for (const id of ids) {
        const row = await reader.entity(ENTITY_TYPES[type], id, null);
        if (row) rows.push(row);
      }
      return rows;
    } finally {
      client.release();
    }
  }

  /** Registry changes since the last poll: changed Things, moves, series written elsewhere. */
  private async pollRegistry(): Promise<void> {
    const since = this.lastPoll;
    const now = new Date();
    const { pool } = this.options;
    await catchUpSeries(pool);
    const changed = await pool.query<{ id: string }>('select id from assets where updated_at > $1 and updated_at <= $2 and is_public', [since, now]);
    const moves = await pool.query<{ asset_id: string; location_id: number; historical_location_id: number }>(
      'select asset_id, location_id, historical_location_id from asset_locations where since > $1 and since <= $2', [since, now]);
    this.lastPoll = now;
    if (changed.rows.length > 0 || moves.rows.length > 0) await this.refreshAssets();
    const t = this.options.transport;
    for (const row of await this.read('Thing', changed.rows.map((r) => thingId(r.id)))) {
      const json = JSON.stringify(entityJson(ENTITY_TYPES.Thing, row, emptyOptions(), this.options.links, true));
      for (const topic of ['v1.1/Things', `v1.1/Things(${row.id})`]) if (t.interested(topic)) t.publish(staTopic(topic), json);
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
          for (const topic of audience) t.publish(staTopic(topic), json);
        }
      }
    }
    t.flush();
  }
}
