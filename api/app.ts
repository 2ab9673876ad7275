/**
 * buildApp(deps) returns the Fastify app and never listens; main listens.
 * One encapsulated plugin per resource; schemas on every route.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type pg from 'pg';
import type { Logger } from 'pino';
import { installErrorHandler } from './errors.js';
import { healthRoutes } from './health.js';
import { readingRoutes } from './readings.js';

export interface PartStatus {
  ok: boolean;
  embedded: boolean;
  reason?: string;
}

export interface ServiceStatus {
  database: PartStatus & { timescale: boolean };
  broker: PartStatus;
}

export interface AppDeps {
  pool: pg.Pool;
  log: Logger;
  version: string;
  status(): Promise<ServiceStatus>;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log.child({ stage: 'api' }) as FastifyBaseLogger,
    // Per-request logs would dominate at thousands of requests per second; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 5 * 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandler(app);
  await app.register(healthRoutes, { deps });
  await app.register(readingRoutes, { deps });
  return app;
}
