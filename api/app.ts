/**
 * buildApp(deps) returns the Fastify app and never listens; main listens.
 * One encapsulated plugin per resource; schemas on every route.
 */
import fastifyCookie from '@fastify/cookie';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { AuthConfig } from '../auth-config.js';
import { loadCityProfile, type CityProfile } from '../city-profile.js';
import { adminRoutes } from './admin.js';
import { countRoutes } from './counts.js';
import { AuditLog } from './audit-log.js';
import { KeyVerifier } from './auth.js';
import { docsRoutes } from './docs.js';
import { installErrorHandler } from './errors.js';
import { healthRoutes } from './health.js';
import { installHttpMetrics } from './http-metrics.js';
import { LiveBus } from './live-bus.js';
import { liveRoutes } from './live.js';
import { openDataRoutes } from './open-data.js';
import { opsHistoryRoutes } from './ops-history.js';
import { portalRoutes } from './portals.js';
import { readingRoutes } from './readings.js';
import { registryRoutes } from './registry.js';
import { registrationRoutes } from './registration.js';
import { staRoutes, type StaOptions } from './sta/index.js';
import { webRoutes } from './web.js';
import { downlinkRoutes } from './downlinks.js';
import { DownlinkRequests } from './downlink-requests.js';
import { lampRoutes } from './lamps.js';
import type { LorawanConfig } from '../lorawan-config.js';
import { oidcRoutes } from './oidc-routes.js';
import { authenticateRequest } from './request-auth.js';
import { sessionRoutes } from './session-routes.js';
import { SessionStore } from './sessions.js';
import { userRoutes } from './users.js';

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
  /** Seals ABP keys at rest; without it the registry refuses keys. */
  masterKey?: Buffer | null;
  /** Changes pushed to operators; the service feeds it from ingest. */
  liveBus?: LiveBus;
  /** Called after a device changed, so ingest's device cache forgets it. */
  onDeviceChanged?: (devEui: string) => void;
  /** Open data requests per minute per client. Default 600. */
  openDataRateLimitPerMinute?: number;
  /** The database has TimescaleDB (series come from its continuous aggregates). */
  timescale?: boolean;
  /** A bay whose sensor has been silent this long shows as unknown. Default 1800 s. */
  parkingStaleAfterS?: number;
  /** Public base URL for absolute links (PUBLIC_URL); null: from the request's Host. */
  publicUrl?: string | null;
  /**
   * Proxies allowed to name the client (X-Forwarded-For): addresses, CIDRs or `loopback`…
   * (TRUSTED_PROXIES). Default none: request.ip is always the TCP peer.
   */
  trustedProxies?: readonly string[];
  /** Publisher, attribution and map settings (city-profile.ts). Default: the demonstration profile. */
  city?: Readonly<CityProfile>;
  /** Regions of the concentrator bands, for the size check of downlinks (lorawan-config.ts). */
  lorawan?: Readonly<LorawanConfig>;
  /** SensorThings API (/sta/v1.1): MQTT endpoints to announce, query time limit. */
  sta?: StaOptions;
  /** Session lifetimes and the OpenID Connect provider (auth-config.ts). Default: 1 h idle, 12 h at most, no OIDC. */
  auth?: Readonly<AuthConfig>;
}

/** What the route plugins get: the deps plus the app's shared parts. */
export interface ApiContext extends AppDeps {
  city: Readonly<CityProfile>;
  audit: AuditLog;
  keys: KeyVerifier;
  liveBus: LiveBus;
  auth: Readonly<AuthConfig>;
  sessions: SessionStore;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log.child({ stage: 'api' }) as FastifyBaseLogger,
    // Per-request logs would dominate at thousands of requests per second; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 5 * 1024 * 1024,
    // Only the configured proxies may set the client address: anyone else could choose
    // their own rate-limit bucket and what the audit log records (issue 26, item 5).
    trustProxy: deps.trustedProxies && deps.trustedProxies.length > 0 ? [...deps.trustedProxies] : false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandler(app);
  installHttpMetrics(app);
  await app.register(fastifyCookie);

  const auth = deps.auth ?? { sessionIdleTimeoutS: 3600, sessionMaxAgeS: 43_200, oidc: null };
  const ctx: ApiContext = {
    ...deps,
    city: deps.city ?? loadCityProfile({}),
    audit: new AuditLog(deps.pool, deps.log),
    keys: new KeyVerifier(deps.pool),
    liveBus: deps.liveBus ?? new LiveBus(),
    auth,
    sessions: new SessionStore(deps.pool, auth.sessionIdleTimeoutS, auth.sessionMaxAgeS),
  };
  app.decorateRequest('principal', null);
  app.decorateRequest('session', null);
  app.addHook('onRequest', async (request) => authenticateRequest(request, { keys: ctx.keys, sessions: ctx.sessions, publicUrl: ctx.publicUrl ?? null }));
  app.addHook('onClose', async () => ctx.audit.flush());

  await app.register(docsRoutes, { ctx });
  await app.register(healthRoutes, { deps });
  await app.register(readingRoutes, { ctx });
  await app.register(countRoutes, { ctx });
  await app.register(registryRoutes, { ctx });
  await app.register(registrationRoutes, { ctx });
  await app.register(liveRoutes, { ctx });
  await app.register(openDataRoutes, { ctx });
  await app.register(portalRoutes, { ctx });
  await app.register(adminRoutes, { ctx });
  await app.register(opsHistoryRoutes, { ctx });
  await app.register(staRoutes, { ctx, sta: deps.sta });
  await app.register(sessionRoutes, { ctx });
  await app.register(userRoutes, { ctx });
  await app.register(oidcRoutes, { ctx });
  await app.register(webRoutes);
  // Application downlinks and street lamps share one encoder (codec worker), closed with the app.
  const downlinkRequests = new DownlinkRequests(deps.pool, deps.lorawan ?? null);
  app.addHook('onClose', async () => downlinkRequests.close());
  await app.register(downlinkRoutes, { ctx, requests: downlinkRequests });
  await app.register(lampRoutes, { ctx, requests: downlinkRequests });
  return app;
}
