/**
 * One paging shape for every list that pages (issue 26): the body carries `next`, the
 * URL of the following page or null on the last one, and the same URL goes out as an
 * RFC 8288 `Link: <…>; rel="next"` header. Clients follow the URL and never build a
 * cursor themselves; what `after` holds (an id, a time and key) is the route's own.
 *
 * The URL repeats the request's query with `after` replaced, plus whatever the route
 * resolved from a default that moves (`to` = now): page 2 must cover the window page 1
 * did. With PUBLIC_URL it is absolute (a proxy may serve the API under a path prefix),
 * otherwise relative to the host, which RFC 8288 §3.1 allows.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The `next` field of a paged list's schema. */
export const NextLink = Type.Union([Type.String({ description: 'URL of the next page (also sent as Link: rel="next"); null on the last page' }), Type.Null()]);

/** The `after` query parameter of a paged list's schema. */
export const AfterCursor = Type.Optional(Type.String({ maxLength: 512, description: 'where the page starts: take it from the previous page\'s `next` URL, never build it' }));

/**
 * The next page's URL, also set as the Link header; null (and no header) when `cursor` is
 * null. `fixed` adds or replaces query parameters, e.g. the resolved `from` and `to`.
 */
export function nextPage(
  request: FastifyRequest,
  reply: FastifyReply,
  publicUrl: string | null | undefined,
  cursor: string | null,
  fixed: Record<string, string> = {},
): string | null {
  if (cursor === null) return null;
  const url = new URL(request.url, 'http://request.invalid');
  for (const [name, value] of Object.entries(fixed)) url.searchParams.set(name, value);
  url.searchParams.set('after', cursor);
  const next = `${publicUrl ?? ''}${url.pathname}${url.search}`;
  reply.header('link', `<${next}>; rel="next"`);
  return next;
}
