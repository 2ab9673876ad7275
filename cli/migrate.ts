import type { Command } from './main.js';
import { configOrExit, createLogger } from './shared.js';
import { openDatabase } from '../service.js';
import { closePool } from '../storage/index.js';

export const migrateCommand: Command = {
  summary: 'Apply pending database migrations and exit (start does this too).',
  usage: 'usage: stadtfunk migrate',
  async run() {
    const config = configOrExit();
    if (!config) return 1;
    const log = createLogger(config);
    try {
      const db = await openDatabase(config, log);
      await closePool(db.pool);
      await db.embedded?.stop();
      return 0;
    } catch (error) {
      console.error(`stadtfunk: migrate failed: ${(error as Error).message}`);
      return 1;
    }
  },
};
