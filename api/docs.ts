/** OpenAPI 3 document at /openapi.json and interactive docs at /docs. */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { LICENCE } from '../city-profile.js';
import type { ApiContext } from './app.js';
import { SESSION_COOKIE } from './sessions.js';

export const docsRoutes = fp(async (app: FastifyInstance, { ctx }: { ctx: ApiContext }) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'stadtfunk API',
        version: ctx.version,
        description:
          'Registry for field technicians, live occupancy for traffic control, open data for everyone. ' +
          'Send `Authorization: Bearer <API key>` for non-public routes (machines), or sign in as a user (POST /api/v1/session: a session cookie, and X-CSRF-Token with changes). ' +
          `Open data is published by ${ctx.city.publisher} under ${LICENCE.id}.`,
        license: { name: LICENCE.name, url: LICENCE.url },
        contact: { name: ctx.city.publisher, email: ctx.city.contactEmail },
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer' },
          // A browser signed in through POST /api/v1/session; changes also need X-CSRF-Token (docs/sign-in.md).
          sessionCookie: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
      tags: [
        { name: 'open data', description: 'Public, no key' },
        { name: 'live', description: 'Traffic control (operator)' },
        { name: 'registry', description: 'Assets, device models, devices (technician)' },
        { name: 'readings', description: 'Device readings (technician, operator)' },
        { name: 'admin', description: 'Keys, users, audit, operations (admin)' },
        { name: 'session', description: 'Sign-in for people: password or the identity provider, sign-out' },
        { name: 'ops', description: 'Health' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});
