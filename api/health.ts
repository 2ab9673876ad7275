/** GET /health: 200 when database and broker answer, 503 with the reason when one does not. */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppDeps } from './app.js';

const Part = Type.Object({ ok: Type.Boolean(), embedded: Type.Boolean(), reason: Type.Optional(Type.String()) });
const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  database: Type.Intersect([Part, Type.Object({ timescale: Type.Boolean() })]),
  broker: Part,
  version: Type.String(),
});

export const healthRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get(
    '/health',
    { schema: { tags: ['ops'], summary: 'Service health', response: { 200: Health, 503: Health } } },
    async (_request, reply) => {
      const status = await deps.status();
      const ok = status.database.ok && status.broker.ok;
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', ...status, version: deps.version });
    },
  );
};
