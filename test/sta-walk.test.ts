/**
 * The whole service walked by a second client written from the standard only
 * (test/sta-client/spec-client.ts), over real HTTP: every entity set, every @iot.nextLink
 * to the end, every entity's @iot.selfLink and every navigation link of every entity.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { NAVIGATION, SpecClient, type Entity } from './sta-client/spec-client.js';
import { city, COUNTS, startStaFixture, type StaFixture } from './sta-fixture.js';
import { testLog } from './helpers.js';

let f: StaFixture;
let app: FastifyInstance;
let root: string;
beforeAll(async () => {
  f = await startStaFixture();
  // Without PUBLIC_URL: every link is made from the Host the request came to.
  app = await buildApp({
    pool: f.db.pool, log: testLog, version: 'test', timescale: f.db.timescale, openDataRateLimitPerMinute: 1_000_000, city,
    status: async () => ({ database: { ok: true, embedded: false, timescale: f.db.timescale }, broker: { ok: true, embedded: false } }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  root = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/sta/v1.1`;
});
afterAll(async () => {
  await app?.close();
  await f?.close();
});

describe('a client written from the standard walks everything', () => {
  it('reads every entity set to the end, each entity by its self link, and every navigation link', async () => {
    const client = new SpecClient(root);
    const sets = await client.entitySets();
    expect(sets.map((s) => s.name).sort()).toEqual(Object.keys(NAVIGATION).sort());
    let links = 0;
    for (const set of sets) {
      const { entities, count } = await client.all(`${set.url}?$top=37`);
      expect(count, set.name).toBe(COUNTS[set.name]);
      expect(new Set(entities.map((e) => JSON.stringify(e['@iot.id']))).size, `${set.name}: ids are unique`).toBe(entities.length);
      for (const entity of entities) {
        const self = await client.get(entity['@iot.selfLink']);
        expect(self.status, entity['@iot.selfLink']).toBe(200);
        expect(self.body).toEqual(entity);
        for (const nav of NAVIGATION[set.name]!) {
          const link = entity[`${nav}@iot.navigationLink`] as string | undefined;
          expect(link, `${set.name} ${nav}@iot.navigationLink`).toBeDefined();
          expect(link!.startsWith(`${root}/`), 'absolute').toBe(true);
          links++;
          if (nav.endsWith('s') && nav !== 'Thing') {
            // A collection: followed through all its pages; each member links back to its own self link.
            const related = await client.all(link!);
            for (const r of related.entities as Entity[]) expect(r['@iot.selfLink'].startsWith(`${root}/`)).toBe(true);
          } else {
            const one = await client.get(link!);
            expect(one.status, link).toBe(200);
            expect(one.body['@iot.selfLink']).toBeDefined();
          }
        }
      }
    }
    // Every navigation link of every entity was followed.
    expect(links).toBe(Object.entries(NAVIGATION).reduce((n, [name, navs]) => n + COUNTS[name]! * navs.length, 0));
    expect(client.requests).toBeGreaterThan(links);
  }, 600_000);
});
