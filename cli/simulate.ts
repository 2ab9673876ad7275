import mqtt from 'mqtt';
import type { Command } from './main.js';
import { numberOption, parseArgs, stringOption, UsageError } from './args.js';
import { configOrExit, createLogger } from './shared.js';
import { runningDatabaseUrl, runningMqttUrl } from './targets.js';
import { createPool } from '../storage/index.js';
import { DEVICE_KINDS, type DeviceKind } from '../simulators/fleet.js';
import { SIM_VIA, type SimVia } from '../simulators/messages.js';
import { publishTraffic } from '../simulators/publisher.js';
import { registerFleet, registerOtaaFleet } from '../simulators/register.js';
import { runOtaaSimulation } from '../simulators/otaa-run.js';
import { CityTraffic } from '../simulators/traffic.js';

const USAGE = `usage: stadtfunk simulate --devices N [--kind air|parking|traffic|streetlight|water|all]
                          [--via chirpstack-json|chirpstack-proto|concentrator] [--rate R] [--duration S]
                          [--seed X] [--start ISO-TIME] [--no-register] [--otaa]

  --devices N    simulated devices (spread over the kinds); default 100
  --kind K       one category or all (default all)
  --via V        what the devices' traffic looks like on MQTT (default chirpstack-json):
                 ChirpStack v4 integration events in JSON or protobuf, or encrypted LoRaWAN
                 frames through 3 simulated 450 MHz concentrators (needs MASTER_KEY on both sides)
  --rate R       uplinks per second over the fleet (default: the devices' natural intervals)
  --duration S   seconds to run (default 60)
  --seed X       same seed, same city and byte-identical traffic (default 1)
  --start T      simulated time of the first uplink (default now)
  --no-register  do not register assets and devices first
  --otaa         with --via concentrator: devices join over the air through 2-3 concentrators
                 (JoinEUI and AppKey registered, no session), retry with a new DevNonce when no
                 accept comes, then send uplinks, some confirmed; the simulated concentrators
                 answer command/down with event/ack and streetlights obey dimming commands

Publishes to MQTT_URL (default: the embedded broker of a running stadtfunk) and registers
the fleet in its database (DATABASE_URL, or the embedded one under DATA_DIR).`;

export const simulateCommand: Command = {
  summary: 'Simulate a city of sensors: register them, then publish their uplinks over MQTT.',
  usage: USAGE,
  async run(argv) {
    const config = configOrExit();
    if (!config) return 1;
    const log = createLogger(config);
    try {
      const args = parseArgs(argv, { devices: 'value', kind: 'value', via: 'value', rate: 'value', duration: 'value', seed: 'value', start: 'value', 'no-register': 'flag', otaa: 'flag' });
      const otaa = args.options.has('otaa');
      const devices = numberOption(args, 'devices', 100, 1);
      const kindArg = stringOption(args, 'kind') ?? 'all';
      if (kindArg !== 'all' && !(DEVICE_KINDS as readonly string[]).includes(kindArg)) throw new UsageError(`--kind must be one of ${DEVICE_KINDS.join(', ')}, all`);
      const via = (stringOption(args, 'via') ?? 'chirpstack-json') as SimVia;
      if (!SIM_VIA.includes(via)) throw new UsageError(`--via must be one of ${SIM_VIA.join(', ')}`);
      const startArg = stringOption(args, 'start');
      const start = startArg ? new Date(startArg) : new Date();
      if (Number.isNaN(start.getTime())) throw new UsageError('--start must be an ISO 8601 time, e.g. 2026-11-24T07:00:00Z');
      const rate = args.options.has('rate') ? numberOption(args, 'rate', 1, 0.001) : undefined;
      const concentratorPrefix = config.ingest.concentratorPrefixes.find((p) => p.includes('450')) ?? config.ingest.concentratorPrefixes[0] ?? '450mhz';
      const traffic = new CityTraffic({
        devices,
        kinds: kindArg === 'all' ? DEVICE_KINDS : [kindArg as DeviceKind],
        via,
        seed: stringOption(args, 'seed') ?? '1',
        start,
        ...(rate === undefined ? {} : { rate }),
        prefixes: {
          chirpstack: config.ingest.chirpstackPrefix ?? 'application',
          concentrator: concentratorPrefix,
          applicationId: '6f1b3c2a-2d4e-4b8f-9a51-3c0d7e2f9b10',
        },
      });
      const durationS = numberOption(args, 'duration', 60, 0.001);
      if (otaa && via !== 'concentrator') throw new UsageError('--otaa needs --via concentrator (devices behind ChirpStack or The Things Stack join there)');
      if (!args.options.has('no-register')) {
        if (via === 'concentrator' && !config.masterKey) throw new UsageError('--via concentrator registers ABP keys: set MASTER_KEY (the same as the service uses)');
        const pool = createPool({ url: await runningDatabaseUrl(config), log });
        try {
          if (otaa) await registerOtaaFleet(pool, traffic.fleet, config.masterKey!, stringOption(args, 'seed') ?? '1');
          else await registerFleet(pool, traffic.fleet, config.masterKey);
        } finally {
          await pool.end();
        }
        console.log(`registered ${traffic.fleet.length} devices and their assets`);
      }
      const client = await mqtt.connectAsync(runningMqttUrl(config), { clientId: `stadtfunk-sim-${process.pid}`, reconnectPeriod: 1000 });
      if (otaa) {
        console.log(`simulating ${devices} OTAA devices via concentrator at ${traffic.rate.toFixed(2)} uplinks/s for ${durationS} s`);
        const stats = await runOtaaSimulation({ client, fleet: traffic.fleet, prefix: concentratorPrefix, seed: stringOption(args, 'seed') ?? '1', rate: traffic.rate }, durationS, (s, t) =>
          console.log(`${t.toFixed(0)} s: ${s.joined}/${devices} joined (${s.joinRequests} join-requests, ${s.joinRetries} retries), ${s.uplinks} uplinks (${s.confirmedUplinks} confirmed, ${s.acks} acked), ${s.lampCommands} lamp commands, ${s.downlinks} downlinks heard, ${s.tooLate} too late`));
        await client.endAsync();
        console.log(`done: ${stats.joined}/${devices} joined, ${stats.uplinks} uplinks, ${stats.acks} ACKs, ${stats.lampCommands} lamp commands obeyed`);
        return stats.joined > 0 ? 0 : 1;
      }
      console.log(`simulating ${devices} devices via ${via} at ${traffic.rate.toFixed(2)} uplinks/s for ${durationS} s`);
      const done = await publishTraffic({
        client,
        traffic,
        durationS,
        onProgress: (p) => console.log(`${p.elapsedS.toFixed(0)} s: ${p.uplinks} uplinks (${p.messages} messages) sent, ${p.ratePerS.toFixed(1)}/s, ${p.errors} errors`),
      });
      await client.endAsync();
      console.log(`done: ${done.uplinks} uplinks, ${done.messages} messages, ${done.errors} errors in ${done.elapsedS.toFixed(1)} s`);
      return done.errors === 0 ? 0 : 1;
    } catch (error) {
      console.error(`stadtfunk simulate: ${(error as Error).message}`);
      return error instanceof UsageError ? 2 : 1;
    }
  },
};
