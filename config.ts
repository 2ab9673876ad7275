/**
 * The one place that reads process.env. It builds a typed, frozen, validated
 * configuration; a bad value stops start-up with one line naming the variable,
 * what is wrong and an example of a good value.
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { loadAuthConfig, type AuthConfig } from './auth-config.js';
import { loadCityProfile, type CityProfile } from './city-profile.js';
import { ConfigError } from './config-error.js';
import { loadLorawanConfig, type LorawanConfig } from './lorawan-config.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type ChirpstackEncoding = 'json' | 'protobuf';

export interface Config {
  /** External PostgreSQL / TimescaleDB; null → embedded PostgreSQL under dataDir. */
  databaseUrl: string | null;
  /** External MQTT broker; null → embedded broker (aedes) on 127.0.0.1. */
  mqttUrl: string | null;
  httpHost: string;
  httpPort: number;
  /** Where embedded PostgreSQL and other local state live. Absolute path. */
  dataDir: string;
  logLevel: LogLevel;
  /** Port of the embedded PostgreSQL (used only when databaseUrl is null). Default 55432. */
  embeddedDatabasePort: number;
  /** Port of the embedded MQTT broker (used only when mqttUrl is null). Default 11883. */
  embeddedMqttPort: number;
  mqtt: {
    /** Fixed client id of the persistent ingest session. Default `stadtfunk-ingest`. */
    clientId: string;
    /** MQTT 5 shared-subscription group; null subscribes directly. */
    sharedGroup: string | null;
    /** 5 for external brokers (shared subscriptions, receive maximum); the embedded broker speaks 3.1.1. */
    protocolVersion: 4 | 5;
    username: string | null;
    password: string | null;
  };
  ingest: {
    /** Topic prefix of ChirpStack v4 application integration events; null disables. Default `application`. */
    chirpstackPrefix: string | null;
    chirpstackEncoding: ChirpstackEncoding;
    /** Topic prefix of The Things Stack v3; null disables. Default `v3`. */
    ttsPrefix: string | null;
    /**
     * Topic prefixes of gateway-bridge concentrators (before `/gateway/`). Default `eu868,450mhz`
     * when MASTER_KEY is set, none otherwise (the raw-frame layer needs the key).
     */
    concentratorPrefixes: string[];
    /** Band label per concentrator prefix for radio metadata, e.g. `450mhz` → `450MHz`. */
    concentratorBands: Readonly<Record<string, string>>;
    /** How long copies of one frame from several concentrators are gathered. Default 200 ms. */
    dedupWindowMs: number;
    /** Most uplinks in one write transaction. Default 2000. */
    batchMaxSize: number;
    /** Longest a message waits for its batch to be written. Default 50 ms. */
    batchMaxAgeMs: number;
    /**
     * Most messages received but not yet acknowledged; ingest stops reading at this bound.
     * Default 12000. Raw frames need the most: each uplink arrives once per concentrator
     * and waits out the dedup window, so 5,000 uplinks/s from three concentrators hold
     * about 15,000 frames per second of latency. (ChirpStack events are held back sooner:
     * ingest also stops reading while a closed batch waits for the database.)
     */
    maxInFlight: number;
    /** Most payload bytes of unacknowledged messages; ingest stops reading at this bound too. Default 16 MiB. */
    maxInFlightBytes: number;
    /**
     * Largest accepted MQTT payload; larger ones are dead-lettered with their first 4 KiB,
     * length and SHA-256. Default 65536 bytes.
     */
    maxPayloadBytes: number;
    /**
     * MQTT 5 Maximum Packet Size told to the broker, which drops larger messages for this
     * client without sending them (see docs/production.md); the embedded broker
     * disconnects a client that sends a larger packet. Default 16 MiB.
     */
    maxPacketBytes: number;
  };
  timescale: {
    /** TimescaleDB: chunks older than this are compressed. Default 7. */
    compressAfterDays: number;
    /** TimescaleDB: raw uplinks older than this are dropped; readings are kept. Default 90. */
    uplinkRetentionDays: number;
  };
  /** 32-byte master key for LoRaWAN session keys at rest; null disables the raw-frame layer. */
  masterKey: Buffer | null;
  api: {
    /** Open-data requests per minute per client address. Default 600. */
    openDataRateLimitPerMinute: number;
    /** A parking bay whose sensor is silent this long shows as unknown. Default 1800 s. */
    parkingStaleAfterS: number;
    /**
     * The service's public base URL as clients reach it (e.g. behind a reverse proxy), without
     * a trailing slash; absolute links in the catalog and SensorThings use it. Null: derived
     * from each request's Host header.
     */
    publicUrl: string | null;
    /**
     * Reverse proxies whose X-Forwarded-For / -Proto / -Host are believed: addresses, CIDR
     * ranges or `loopback`, `linklocal`, `uniquelocal`. Default none: the client address is
     * the TCP peer, whatever a request's headers say (rate limits and the audit log use it).
     */
    trustedProxies: string[];
  };
  /** Who publishes and where the city is (CITY_* variables): city-profile.ts. */
  city: Readonly<CityProfile>;
  /** Joins, downlinks, regions and MAC timings of the raw-frame path (LORAWAN_* variables): lorawan-config.ts. */
  lorawan: Readonly<LorawanConfig>;
  /** Sessions and the OpenID Connect identity provider (SESSION_*, OIDC_* variables): auth-config.ts. */
  auth: Readonly<AuthConfig>;
  /** SensorThings API (/sta/v1.1) and its MQTT topics: docs/sensorthings.md. */
  sta: StaConfig;
}

/** Which Observation topics are published on an external broker (the embedded one serves what is subscribed). */
export type StaMqttTopic = 'datastreams' | 'observations' | 'things' | 'features' | 'entities';

export interface StaConfig {
  /** MQTT URL clients subscribe at, announced in the service root; null: the embedded broker on the request's host, or MQTT_URL without credentials. */
  mqttPublicUrl: string | null;
  /** Observation topics published on an external broker; empty: none (STA_MQTT_TOPICS=off). Default datastreams. */
  mqttTopics: StaMqttTopic[];
  /** Longest a SensorThings request's statements may run. Default 5000 ms. */
  queryTimeoutMs: number;
  /** How often parking zones' occupancy is sampled (their Observations); 0: never. Default 60,000 ms. */
  zoneSampleIntervalMs: number;
}

export { ConfigError };

function staConfig(env: Env): StaConfig {
  const topics = text(env, 'STA_MQTT_TOPICS') ?? 'datastreams';
  const known: StaMqttTopic[] = ['datastreams', 'observations', 'things', 'features', 'entities'];
  const list = topics === 'off' ? [] : topics.split(',').map((t) => t.trim()).filter(Boolean);
  const unknown = list.filter((t) => !(known as string[]).includes(t));
  if (unknown.length > 0) throw new ConfigError('STA_MQTT_TOPICS', `"${unknown.join(',')}" is not one of ${known.join(', ')} (or off)`, 'datastreams,things');
  return {
    mqttPublicUrl: url(env, 'STA_MQTT_PUBLIC_URL', ['mqtt:', 'mqtts:', 'ws:', 'wss:'], 'mqtts://mqtt.stadt.example:8883'),
    mqttTopics: list as StaMqttTopic[],
    queryTimeoutMs: integer(env, 'STA_QUERY_TIMEOUT_MS', 5000, 100, 600_000, '5000'),
    zoneSampleIntervalMs: zoneSampleInterval(env),
  };
}

/** STA_ZONE_SAMPLE_INTERVAL_MS: 0 (off), or a second to a day. */
function zoneSampleInterval(env: Env): number {
  const ms = integer(env, 'STA_ZONE_SAMPLE_INTERVAL_MS', 60_000, 0, 86_400_000, '60000');
  if (ms !== 0 && ms < 1000) throw new ConfigError('STA_ZONE_SAMPLE_INTERVAL_MS', `${ms} is below 1000 (0 switches sampling off)`, '60000');
  return ms;
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

function url(env: Env, name: string, protocols: string[], example: string): string | null {
  const value = text(env, name);
  if (value === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `"${redactUrl(value)}" is not a URL`, example);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `protocol ${parsed.protocol} is not one of ${protocols.join(' ')}`, example);
  }
  return value;
}

/** A TCP port; 0 (HTTP_PORT only) means any free port, which tests use. */
function port(env: Env, name: string, fallback: number, min = 1): number {
  return integer(env, name, fallback, min, 65535, String(fallback));
}

function integer(env: Env, name: string, fallback: number, min: number, max: number, example: string): number {
  const value = text(env, name);
  if (value === null) return fallback;
  if (!/^\d+$/.test(value)) throw new ConfigError(name, `"${value}" is not a whole number`, example);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(name, `${n} is outside ${min}..${max}`, example);
  return n;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = text(env, name);
  if (value === null) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `"${value}" is not one of ${allowed.join(', ')}`, allowed[0] ?? '');
  }
  return value as T;
}

/** A prefix variable: unset → default, `off` → disabled. */
function prefix(env: Env, name: string, fallback: string): string | null {
  const value = text(env, name);
  if (value === null) return fallback;
  if (value === 'off') return null;
  if (/[#+]/.test(value) || value.startsWith('/') || value.endsWith('/')) {
    throw new ConfigError(name, `"${value}" must be a topic prefix without wildcards or outer slashes (or "off")`, fallback);
  }
  return value;
}

function masterKey(env: Env): Buffer | null {
  const value = text(env, 'MASTER_KEY');
  if (value === null) return null;
  const example = '<64 hex digits, e.g. from: openssl rand -hex 32>';
  const key = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (key.length !== 32) throw new ConfigError('MASTER_KEY', 'must be 32 bytes as 64 hex digits or base64', example);
  return key;
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** TRUSTED_PROXIES: comma-separated addresses, CIDRs or proxy-addr's names; unset → none. */
function trustedProxies(env: Env): string[] {
  const value = text(env, 'TRUSTED_PROXIES');
  if (value === null) return [];
  const example = '10.0.0.5,192.168.10.0/24';
  return value.split(',').map((p) => p.trim()).filter(Boolean).map((entry) => {
    if (PROXY_NAMES.includes(entry)) return entry;
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const max = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max))) {
      throw new ConfigError('TRUSTED_PROXIES', `"${entry}" is not an IP address, a CIDR range or one of ${PROXY_NAMES.join(', ')}`, example);
    }
    return entry;
  });
}

/**
 * Reads a `.env` file in the working directory into process.env, as `.env.example`
 * describes it; variables already set in the environment win (Node's own parser,
 * process.loadEnvFile). ENV_FILE names another file, or `off` for none (the tests that
 * start the service use that, so a developer's .env cannot change them). Returns the
 * file read, or null when there was none.
 */
export function loadEnvFile(env: Env = process.env, cwd: string = process.cwd()): string | null {
  const named = text(env, 'ENV_FILE');
  if (named === 'off') return null;
  const file = path.resolve(cwd, named ?? '.env');
  if (!existsSync(file)) {
    if (named !== null) throw new ConfigError('ENV_FILE', `${file} does not exist`, '.env');
    return null;
  }
  process.loadEnvFile(file);
  return file;
}

/** Hides the password of a connection URL for logs and error messages. */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return value.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Readonly<Config> {
  const mqttUrl = url(env, 'MQTT_URL', ['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:'], 'mqtt://127.0.0.1:1883');
  const concentrators = text(env, 'INGEST_CONCENTRATOR_PREFIXES');
  const key = masterKey(env);
  if (concentrators !== null && concentrators !== 'off' && key === null) {
    throw new ConfigError('MASTER_KEY', 'is required when INGEST_CONCENTRATOR_PREFIXES is set: the raw-frame layer keeps LoRaWAN session keys encrypted with it', '<64 hex digits, e.g. from: openssl rand -hex 32>');
  }
  const bands: Record<string, string> = { eu868: 'EU868', '450mhz': '450MHz', eu433: 'EU433' };
  for (const pair of (text(env, 'INGEST_CONCENTRATOR_BANDS') ?? '').split(',').filter(Boolean)) {
    const [p, label] = pair.split('=').map((x) => x.trim());
    if (!p || !label) throw new ConfigError('INGEST_CONCENTRATOR_BANDS', `"${pair}" is not prefix=label`, '450mhz=450MHz,eu868=EU868');
    bands[p] = label;
  }
  const publicUrl = url(env, 'PUBLIC_URL', ['http:', 'https:'], 'https://daten.stadt.example')?.replace(/\/+$/, '') ?? null;
  const config: Config = {
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:'], 'postgres://stadtfunk:secret@127.0.0.1:5432/stadtfunk'),
    mqttUrl,
    httpHost: text(env, 'HTTP_HOST') ?? '127.0.0.1',
    httpPort: port(env, 'HTTP_PORT', 3000, 0),
    dataDir: path.resolve(cwd, text(env, 'DATA_DIR') ?? './var'),
    logLevel: oneOf(env, 'LOG_LEVEL', ['info', 'fatal', 'error', 'warn', 'debug', 'trace', 'silent'] as const, 'info'),
    embeddedDatabasePort: port(env, 'EMBEDDED_DATABASE_PORT', 55432),
    embeddedMqttPort: port(env, 'EMBEDDED_MQTT_PORT', 11883),
    mqtt: {
      clientId: text(env, 'MQTT_CLIENT_ID') ?? 'stadtfunk-ingest',
      sharedGroup: text(env, 'MQTT_SHARED_GROUP'),
      protocolVersion: mqttUrl === null ? 4 : (integer(env, 'MQTT_PROTOCOL_VERSION', 5, 4, 5, '5') as 4 | 5),
      username: text(env, 'MQTT_USERNAME'),
      password: text(env, 'MQTT_PASSWORD'),
    },
    ingest: {
      chirpstackPrefix: prefix(env, 'INGEST_CHIRPSTACK_PREFIX', 'application'),
      chirpstackEncoding: oneOf(env, 'INGEST_CHIRPSTACK_ENCODING', ['json', 'protobuf'] as const, 'json'),
      ttsPrefix: prefix(env, 'INGEST_TTS_PREFIX', 'v3'),
      concentratorPrefixes:
        concentrators === 'off' || (concentrators === null && key === null)
          ? []
          : (concentrators ?? 'eu868,450mhz')
              .split(',')
              .map((p) => p.trim())
              .filter(Boolean),
      concentratorBands: Object.freeze(bands),
      dedupWindowMs: integer(env, 'INGEST_DEDUP_WINDOW_MS', 200, 1, 60_000, '200'),
      batchMaxSize: integer(env, 'INGEST_BATCH_MAX_SIZE', 2000, 1, 100_000, '2000'),
      batchMaxAgeMs: integer(env, 'INGEST_BATCH_MAX_AGE_MS', 50, 1, 60_000, '50'),
      maxInFlight: integer(env, 'INGEST_MAX_IN_FLIGHT', 12_000, 1, 1_000_000, '12000'),
      maxInFlightBytes: integer(env, 'INGEST_MAX_IN_FLIGHT_BYTES', 16_777_216, 65_536, 2 ** 32, '16777216'),
      maxPayloadBytes: integer(env, 'INGEST_MAX_PAYLOAD_BYTES', 65_536, 64, 16_777_216, '65536'),
      // 268,435,460: the largest packet MQTT can carry (5-byte fixed header and 256 MiB - 1).
      maxPacketBytes: integer(env, 'INGEST_MAX_PACKET_BYTES', 16_777_216, 4096, 268_435_460, '16777216'),
    },
    timescale: {
      compressAfterDays: integer(env, 'TIMESCALE_COMPRESS_AFTER_DAYS', 7, 1, 3650, '7'),
      uplinkRetentionDays: integer(env, 'RAW_UPLINK_RETENTION_DAYS', 90, 1, 36500, '90'),
    },
    masterKey: key,
    api: {
      openDataRateLimitPerMinute: integer(env, 'OPEN_DATA_RATE_LIMIT_PER_MINUTE', 600, 1, 100_000_000, '600'),
      parkingStaleAfterS: integer(env, 'PARKING_STALE_AFTER_S', 1800, 1, 604_800, '1800'),
      publicUrl,
      trustedProxies: trustedProxies(env),
    },
    city: loadCityProfile(env),
    lorawan: loadLorawanConfig(env),
    auth: loadAuthConfig(env, publicUrl),
    sta: staConfig(env),
  };
  if (config.mqtt.sharedGroup !== null && !/^[A-Za-z0-9_-]+$/.test(config.mqtt.sharedGroup)) {
    throw new ConfigError('MQTT_SHARED_GROUP', 'may hold only letters, digits, _ and -', 'stadtfunk');
  }
  if (config.mqtt.sharedGroup !== null && config.mqtt.protocolVersion !== 5) {
    throw new ConfigError('MQTT_SHARED_GROUP', 'needs an MQTT 5 broker (MQTT_URL set, MQTT_PROTOCOL_VERSION=5)', 'stadtfunk');
  }
  return Object.freeze(config);
}
