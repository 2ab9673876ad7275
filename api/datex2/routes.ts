/**
 * DATEX II parking feeds for pull by Mobilithek, ParkAPI and navigation services, no key
 * needed, at stable URLs:
 *
 *   /api/v1/open/datex2/v2.3/parking-table    ParkingTablePublication (static)
 *   /api/v1/open/datex2/v2.3/parking-status   ParkingStatusPublication (live)
 *   /api/v1/open/datex2/v3.7/parking-table    the same in the 3.7 Parking module
 *   /api/v1/open/datex2/v3.7/parking-status
 *
 * application/xml, gzip on request, ETag / Last-Modified and 304 (cached-document.ts).
 * The four documents come from one read of the parking state, at most once a second;
 * a conditional request for an unchanged document is answered from memory. The licence
 * travels as an HTTP Link (DATEX II 2.3 has no element for it).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { LICENCE } from '../../city-profile.js';
import { selectGarageSites, selectZoneSites } from '../../storage/index.js';
import type { ApiContext } from '../app.js';
import { DocumentCache, sendDocument } from '../cached-document.js';
import { HttpError } from '../errors.js';
import { ErrorResponse } from '../schemas.js';
import { parkingSnapshot, type ParkingSnapshot } from './parking-sites.js';
import { linesInSlices } from '../xml.js';
import { parkingStatusV2Lines, parkingTableV2Lines } from './v2-parking.js';
import { parkingStatusV3Lines, parkingTableV3Lines } from './v3-parking.js';

type Feed = 'v2.3/parking-table' | 'v2.3/parking-status' | 'v3.7/parking-table' | 'v3.7/parking-status';

/** How long a feed is served before it is rebuilt (in the background), and how long one database read serves all four. */
export const DATEX_MAX_AGE_MS = 1000;

const FEEDS: Record<Feed, { summary: string; table: boolean; lines: (city: ApiContext['city'], s: ParkingSnapshot) => Iterable<string> | null }> = {
  'v2.3/parking-table': { summary: 'DATEX II 2.3 ParkingTablePublication: garages and on-street zones (UrbanParkingSite)', table: true, lines: parkingTableV2Lines },
  'v2.3/parking-status': { summary: 'DATEX II 2.3 ParkingStatusPublication: vacant and occupied spaces, status', table: false, lines: parkingStatusV2Lines },
  'v3.7/parking-table': { summary: 'DATEX II 3.7 Parking ParkingTablePublication (Place per site)', table: true, lines: parkingTableV3Lines },
  'v3.7/parking-status': { summary: 'DATEX II 3.7 Parking ParkingStatusPublication (PlaceStatus per site)', table: false, lines: parkingStatusV3Lines },
};

export const datex2Routes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const staleAfterS = ctx.parkingStaleAfterS ?? 1800;
  let shared: { at: number; value: Promise<ParkingSnapshot> } | null = null;
  const snapshot = (): Promise<ParkingSnapshot> => {
    if (shared && Date.now() - shared.at < DATEX_MAX_AGE_MS) return shared.value;
    const value = Promise.all([selectGarageSites(ctx.pool, { staleAfterS }), selectZoneSites(ctx.pool, { staleAfterS })])
      .then(([garages, zones]) => parkingSnapshot(garages, zones));
    const entry = { at: Date.now(), value };
    value.catch(() => { if (shared === entry) shared = null; });
    shared = entry;
    return value;
  };
  // A table is written again only when its version changes (a status every time: its
  // numbers move); the same bytes then skip hashing in the cache too. A document is
  // written in slices (some 700 sites make a status document of about 370 KB), so that a
  // rebuild in the background holds a request up by one slice at most.
  const tables = new Map<Feed, { version: string; body: Buffer }>();
  const write = async (feed: Feed, s: ParkingSnapshot): Promise<Buffer> => {
    const kept = tables.get(feed);
    if (kept && kept.version === s.tableVersion) return kept.body;
    const lines = FEEDS[feed].lines(ctx.city, s);
    const body = lines === null ? Buffer.alloc(0) : await linesInSlices(lines);
    if (FEEDS[feed].table) tables.set(feed, { version: s.tableVersion, body });
    return body;
  };
  const feeds = new DocumentCache<Feed>({
    maxAgeMs: DATEX_MAX_AGE_MS,
    label: (feed) => `datex2/${feed}`,
    build: async (feed) => {
      const s = await snapshot();
      // A status document changes with the statuses and with the table it references.
      const lastModified = FEEDS[feed].table ? s.tableVersionTime : new Date(Math.max(s.statusTime.getTime(), s.tableVersionTime.getTime()));
      // Empty: nothing a 3.x publication can hold (see v3-parking.ts).
      return { body: await write(feed, s), lastModified };
    },
    onRefreshError: (error) => app.log.error({ err: error }, 'DATEX II feed refresh failed; the last one is served'),
  });

  for (const [feed, { summary, table }] of Object.entries(FEEDS) as [Feed, (typeof FEEDS)[Feed]][]) {
    app.get(`/api/v1/open/datex2/${feed}`, {
      schema: {
        tags: ['open data'], summary: `${summary} (no key; gzip, ETag, If-Modified-Since → 304)`,
        response: { 200: Type.Any({ description: 'application/xml' }), 304: Type.Null({ description: 'not modified' }), 404: ErrorResponse },
      },
    }, async (request, reply) => {
      const doc = await feeds.get(feed);
      if (doc.body.length === 0) {
        throw new HttpError(404, 'STADTFUNK_ERR_NOT_FOUND', `no parking site ${table ? 'is published' : 'has reported'} yet, and a DATEX II 3 publication cannot be empty (the 2.3 feed answers with an empty GenericPublication)`);
      }
      return sendDocument(request, reply, doc, {
        contentType: 'application/xml; charset=utf-8',
        cacheControl: table ? 'public, max-age=60' : 'public, max-age=5',
        link: `<${LICENCE.url}>; rel="license"`,
      });
    });
  }
};
