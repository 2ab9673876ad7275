import fs from 'node:fs/promises';
import type { Command } from './main.js';
import { parseArgs, stringOption, UsageError } from './args.js';
import { configOrExit } from './shared.js';
import { commandDatabase } from './targets.js';
import { CodecRunner } from '../decoders/codec-runner.js';
import { readRepositoryPath } from '../decoders/device-repository.js';
import { formatImportReport, importRepositoryModels } from '../decoders/model-import.js';
import { upsertDeviceModel } from '../storage/index.js';

const USAGE = `usage: stadtfunk models import PATH [--dry-run] [--json FILE]

PATH is a vendor folder of a checkout of The Things Network's device repository
(TheThingsNetwork/lorawan-devices: vendor/<vendor>, with index.yaml) or one device YAML
in it. Each device becomes a device model with its codec, its examples (run exactly,
in a codec worker: a model whose examples fail is refused; one without examples is
imported unverified), a category and the mapping proposed for it. The report says per
model which fields become which metrics and which are left, and why.
--dry-run checks and reports without writing; --json FILE also writes the report.`;

export const modelsCommand: Command = {
  summary: "Import device models from The Things Network's device repository (models import).",
  usage: USAGE,
  async run(argv) {
    try {
      const args = parseArgs(argv, { 'dry-run': 'flag', json: 'value' });
      const [verb, target] = args.positional;
      if (verb !== 'import' || !target) throw new UsageError(USAGE);
      const { models, problems } = await readRepositoryPath(target);
      for (const p of problems) console.error(`stadtfunk models: ${p.file}: ${p.problem}`);
      if (models.length === 0) throw new Error(`no device models found in ${target}`);
      const dryRun = args.options.has('dry-run');
      const config = dryRun ? null : configOrExit();
      if (!dryRun && !config) return 1;
      const db = config ? await commandDatabase(config) : null;
      const runner = new CodecRunner();
      try {
        const report = await importRepositoryModels(models, {
          run: (script, input, options) => runner.decode(script, input, options),
          save: db ? (m) => upsertDeviceModel(db.pool, { ...m, decoderKind: 'codec', mapping: [] }) : null,
        });
        console.log(formatImportReport(report));
        const json = stringOption(args, 'json');
        if (json) await fs.writeFile(json, JSON.stringify(report, null, 2));
        return report.some((e) => e.status === 'refused') ? 1 : 0;
      } finally {
        await runner.close();
        await db?.close();
      }
    } catch (error) {
      console.error(`stadtfunk models: ${(error as Error).message}`);
      return error instanceof UsageError ? 2 : 1;
    }
  },
};
