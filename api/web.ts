/**
 * The web app: static files from web/ (no build step; plain ES modules) and Leaflet from
 * its npm package, served by the same Fastify service under /app/.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import fastifyStatic from '@fastify/static';
import { atRoot } from '../package-root.js';
import type { FastifyInstance } from 'fastify';

const webRoot = atRoot('web');
const leafletRoot = path.dirname(createRequire(import.meta.url).resolve('leaflet/dist/leaflet.js'));

export async function webRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, { root: webRoot, prefix: '/app/', maxAge: '1h', index: 'index.html' });
  await app.register(fastifyStatic, { root: leafletRoot, prefix: '/vendor/leaflet/', decorateReply: false, maxAge: '7d' });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/app/'));
  app.get('/app', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/app/'));
}
