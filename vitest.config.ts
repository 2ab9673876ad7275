import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` runs pure tests next to the code with no services;
 * `integration` runs test/** against a real PostgreSQL and a real MQTT broker
 * (embedded ones started by test/global-setup.ts, or TEST_DATABASE_URL / TEST_MQTT_URL).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{ingest,decoders,storage,api,simulators,bench,cli}/**/*.test.ts', '*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
