/**
 * The web app: static files from web/ (no build step; plain ES modules), Leaflet (maps)
 * and uPlot (charts) from their npm packages, served by the same Fastify service under /app/.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const webRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'web');
const require = createRequire(import.meta.url);
const leafletRoot = path.dirname(require.resolve('leaflet/dist/leaflet.js'));
const uplotRoot = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));

export async function webRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, { root: webRoot, prefix: '/app/', maxAge: '1h', index: 'index.html' });
  await app.register(fastifyStatic, { root: leafletRoot, prefix: '/vendor/leaflet/', decorateReply: false, maxAge: '7d' });
  await app.register(fastifyStatic, { root: uplotRoot, prefix: '/vendor/uplot/', decorateReply: false, maxAge: '7d' });
  // Browsers ask for /favicon.ico on pages without an icon link (the API docs): no 404 in their console.
  app.get('/favicon.ico', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/app/favicon.svg'));
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/app/'));
  app.get('/app', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/app/'));
}
