/** OpenAPI 3 document at /openapi.json and interactive docs at /docs. */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { LICENCE } from '../city-profile.js';
import type { ApiContext } from './app.js';
import { SESSION_COOKIE } from './sessions.js';

interface OpenApiParameter {
  in: string;
  required?: boolean;
  schema?: { default?: unknown; type?: string };
}
type OpenApiDocument = { paths?: Record<string, Record<string, { parameters?: OpenApiParameter[] }>> } & Record<string, unknown>;

/**
 * A query parameter with a default need not be sent (the server fills it in), but a
 * TypeBox property with a default is still in its object's `required` list, which
 * @fastify/swagger turns into `required: true` (issue 26). Path parameters stay required.
 */
export function optionalWhereDefaulted(doc: OpenApiDocument): OpenApiDocument {
  // A copy: the document shares schema objects with the routes, whose validators must keep theirs.
  doc = JSON.parse(JSON.stringify(doc)) as OpenApiDocument;
  booleanExclusiveBounds(doc);
  for (const operations of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in !== 'path' && parameter.required && parameter.schema?.default !== undefined) parameter.required = false;
        // A wildcard route's rest of the path (`/sta/v1.1/*` becomes `{*}`) comes without a schema object.
        if (parameter.in === 'path' && (parameter.schema === null || typeof parameter.schema !== 'object')) {
          parameter.schema = { type: 'string' } as OpenApiParameter['schema'];
          parameter.required = true;
        }
      }
    }
  }
  return doc;
}

/**
 * OpenAPI 3.0 takes JSON Schema draft 4's boolean exclusiveMinimum/-Maximum beside a
 * minimum/maximum; the routes' schemas (ajv, draft 7) write the bound itself there. The
 * published document gets the 3.0 form, so that validators and code generators accept it.
 */
function booleanExclusiveBounds(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) booleanExclusiveBounds(item);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const schema = node as Record<string, unknown>;
  for (const [exclusive, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (typeof schema[exclusive] === 'number') {
      schema[bound] = schema[exclusive];
      schema[exclusive] = true;
    }
  }
  for (const value of Object.values(schema)) booleanExclusiveBounds(value);
}

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
    transformObject: (documents) => optionalWhereDefaulted(('openapiObject' in documents ? documents.openapiObject : documents.swaggerObject) as unknown as OpenApiDocument) as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});
