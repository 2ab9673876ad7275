import type { Command } from './main.js';
import { DEVICE_KINDS, type DeviceKind } from '../simulators/fleet.js';
import { integerOption, numberOption, parseArgs, stringOption, UsageError } from './args.js';

interface Bench {
  summary: string;
  run(args: ReturnType<typeof parseArgs>): Promise<unknown>;
}

/** Each benchmark module is loaded only when asked for. */
const benches: Record<string, Bench> = {
  frames: {
    summary: 'raw concentrator frames through dedup, MIC, counters and decryption into the database (+ crypto baseline)',
    run: async (a) =>
      (await import('../bench/frames.js')).framesBench({
        durationS: numberOption(a, 'duration', 20, 1),
        devices: numberOption(a, 'devices', 2000, 1),
        targetRate: numberOption(a, 'rate', 5000, 1),
        workers: integerOption(a, 'workers', 1, 1),
        json: stringOption(a, 'json'),
      }),
  },
  ingest: {
    summary: 'ChirpStack JSON uplinks publish → commit: uplinks/s, latency, RSS (+ naive pipeline and DB ceiling)',
    run: async (a) =>
      (await import('../bench/ingest.js')).ingestBench({
        rate: numberOption(a, 'rate', 0, 0),
        durationS: numberOption(a, 'duration', 20, 1),
        devices: numberOption(a, 'devices', 20_000, 1),
        kinds: kindsOption(stringOption(a, 'kinds')),
        workers: integerOption(a, 'workers', 1, 1),
        json: stringOption(a, 'json'),
      }),
  },
  api: {
    summary: 'live zone occupancy, one-month hourly series and bulk CSV export (autocannon; + /health baseline)',
    run: async (a) => (await import('../bench/api.js')).apiBench({ durationS: numberOption(a, 'duration', 10, 1), json: stringOption(a, 'json') }),
  },
  sta: {
    summary: 'SensorThings API: latest values, month paging, $count, st_within, MQTT latency and ingest slowdown (+ /health baseline)',
    run: async (a) => (await import('../bench/sta.js')).staBench({ durationS: numberOption(a, 'duration', 10, 1), rate: numberOption(a, 'rate', 5000, 1), json: stringOption(a, 'json') }),
  },
  storage: {
    summary: 'batch writer readings/s beside single-row INSERTs and COPY; one-month hourly series p50/p99',
    run: async (a) => (await import('../bench/storage.js')).storageBench({ readings: numberOption(a, 'readings', 10_000_000, 1000), json: stringOption(a, 'json') }),
  },
  decoders: {
    summary: 'built-in decoder and sandboxed vendor codec decodes/s (+ unsandboxed baseline)',
    run: async (a) => (await import('../bench/decoders.js')).decodersBench({ durationS: numberOption(a, 'duration', 3, 0.1), json: stringOption(a, 'json') }),
  },
  joins: {
    summary: 'OTAA join storm through three concentrators, offered at --rate (default 1,500/s): joins/s answered, join-request → accept p99, queued downlink → RX1 p99 (+ broker round trip and join crypto baselines)',
    run: async (a) =>
      (await import('../bench/joins.js')).joinsBench({
        devices: numberOption(a, 'devices', 10_000, 1),
        rate: a.options.has('rate') ? numberOption(a, 'rate', 0, 1) : undefined,
        json: stringOption(a, 'json'),
      }),
  },
  portals: {
    summary: 'DATEX II parking status (500 garages, 200 zones) plain and 304, DCAT-AP.de catalog (+ /health baseline)',
    run: async (a) => (await import('../bench/portals.js')).portalsBench({ durationS: numberOption(a, 'duration', 10, 1), json: stringOption(a, 'json') }),
  },
  'frames-crypto': {
    summary: 'the crypto step alone: lora-packet vs node:crypto',
    run: async (a) => (await import('../bench/frames-crypto.js')).framesCryptoBench({ durationMs: numberOption(a, 'duration', 4, 0.1) * 1000, json: stringOption(a, 'json') }),
  },
};

/** --kinds air,parking: device kinds of the simulated city (ingest); all when absent. */
function kindsOption(value: string | undefined): DeviceKind[] | undefined {
  if (value === undefined) return undefined;
  const kinds = value.split(',').map((k) => k.trim()).filter(Boolean);
  const unknown = kinds.filter((k) => !(DEVICE_KINDS as readonly string[]).includes(k));
  if (kinds.length === 0 || unknown.length > 0) throw new UsageError(`--kinds: ${unknown.join(', ') || 'empty'} is not a device kind (${DEVICE_KINDS.join(', ')})`);
  return kinds as DeviceKind[];
}

export function registerBench(name: string, bench: Bench): void {
  benches[name] = bench;
}

export const benchCommand: Command = {
  summary: 'Run a benchmark and print its results beside a baseline measured in the same run.',
  get usage() {
    return [
      'usage: stadtfunk bench <name> [--duration S] [--rate N] [--devices N] [--kinds air,parking,...] [--workers N] [--readings N] [--json FILE]',
      '',
      'benchmarks:',
      ...Object.entries(benches).map(([name, b]) => `  ${name.padEnd(14)} ${b.summary}`),
      '',
      'Uses DATABASE_URL / MQTT_URL when set; otherwise a private embedded PostgreSQL and a private',
      'Mosquitto (or aedes) started for the run. --json FILE also writes the results as JSON.',
    ].join('\n');
  },
  async run(argv) {
    try {
      const args = parseArgs(argv, { duration: 'value', rate: 'value', devices: 'value', kinds: 'value', workers: 'value', readings: 'value', json: 'value' });
      const name = args.positional[0];
      const bench = name ? benches[name] : undefined;
      if (!bench) throw new UsageError(`name a benchmark: ${Object.keys(benches).join(', ')}`);
      await bench.run(args);
      return 0;
    } catch (error) {
      console.error(`stadtfunk bench: ${(error as Error).message}`);
      return error instanceof UsageError ? 2 : 1;
    }
  },
};
