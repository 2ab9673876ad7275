/**
 * What open-data portals harvest and pull (issue 22): the DATEX II parking feeds for
 * Mobilithek (datex2/), the DCAT-AP.de catalog for GovData (catalog/) and the CSVW
 * metadata of the CSV downloads (csvw.ts). Open like the rest of open data: no key,
 * CORS for every origin, the same per-client rate limit.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from './app.js';
import { catalogRoutes } from './catalog/routes.js';
import { csvwRoutes } from './csvw.js';
import { datex2Routes } from './datex2/routes.js';

export const portalRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  // CORS headers by hand: @fastify/cors always adds a global OPTIONS * route, which the
  // open-data plugin's registration already did (and which answers preflights here too).
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-expose-headers', 'ETag, Last-Modified, Link');
  });
  await app.register(rateLimit, { max: ctx.openDataRateLimitPerMinute ?? 600, timeWindow: 60_000 });
  await app.register(datex2Routes, { ctx });
  await app.register(catalogRoutes, { ctx });
  await app.register(csvwRoutes, { ctx });
};
