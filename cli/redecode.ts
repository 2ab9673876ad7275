import type { Command } from './main.js';
import { parseArgs, stringOption, UsageError } from './args.js';
import { configOrExit } from './shared.js';
import { commandDatabase } from './targets.js';
import { createDecoders } from '../decoders/index.js';
import { redecode } from '../decoders/redecode.js';

const USAGE = `usage: stadtfunk redecode (--device DEVEUI | --model MODEL_ID) --from ISO --to ISO

Decodes the stored raw uplinks again with the device model as it is now and replaces
their readings (idempotent: running it twice gives the same rows). Shows progress. Readings from
radio metadata (rssi, snr) are left as they are.`;

export const redecodeCommand: Command = {
  summary: 'Re-decode stored uplinks of a device or model after a codec or mapping fix.',
  usage: USAGE,
  async run(argv) {
    const config = configOrExit();
    if (!config) return 1;
    try {
      const args = parseArgs(argv, { device: 'value', model: 'value', from: 'value', to: 'value' });
      const devEui = stringOption(args, 'device')?.toLowerCase() ?? null;
      const modelId = stringOption(args, 'model') ?? null;
      if (!devEui === !modelId) throw new UsageError(`give exactly one of --device and --model\n${USAGE}`);
      if (devEui && !/^[0-9a-f]{16}$/.test(devEui)) throw new UsageError('--device must be a DevEUI of 16 hex digits');
      const from = new Date(stringOption(args, 'from') ?? '');
      const to = new Date(stringOption(args, 'to') ?? '');
      if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) throw new UsageError('--from and --to must be ISO 8601 times with from < to');
      const db = await commandDatabase(config);
      const decoders = await createDecoders();
      try {
        const done = await redecode(db.pool, decoders, {
          devEui, modelId, from, to,
          onProgress: (p) => process.stdout.write(`\r${p.uplinks} uplinks re-decoded, ${p.readings} readings, ${p.failed} failed`),
        });
        console.log(`\ndone: ${done.uplinks} uplinks, ${done.readings} readings written, ${done.failed} could not be decoded`);
        return 0;
      } finally {
        decoders.close();
        await db.close();
      }
    } catch (error) {
      console.error(`stadtfunk redecode: ${(error as Error).message}`);
      return error instanceof UsageError ? 2 : 1;
    }
  },
};
