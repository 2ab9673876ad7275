/**
 * Strings PostgreSQL can store. Neither `text` nor `jsonb` holds U+0000, and `jsonb`
 * refuses a lone UTF-16 surrogate; a batch carrying either would fail on every retry and
 * stop ingest for good. Both come from outside: a vendor codec decoding an ASCII field of
 * a payload with zero bytes returns "\u0000", an MQTT client can put it in any string.
 * They are stored as U+FFFD (the replacement character), the rest of the row unchanged.
 * (In `text`, a lone surrogate already becomes U+FFFD when node encodes the query as
 * UTF-8; only NUL needs replacing there.)
 */

/** `value` with every U+0000 replaced by U+FFFD. */
export function pgText(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}

export function pgTextOrNull(value: string | null): string | null {
  return value === null ? null : pgText(value);
}

/** JSON.stringify writes U+0000 as \u0000 and a lone surrogate as \udXXX. */
const UNSAFE_ESCAPE = /\\u0000|\\ud[89a-f][0-9a-f]{2}/i;

/**
 * JSON text that jsonb accepts: unchanged unless it holds an escape jsonb refuses; then
 * every string in it (keys too) has NUL and lone surrogates as U+FFFD. The test is one
 * scan of the text; the repair, which parses and writes it again, only runs when needed.
 */
export function pgJsonText(json: string): string {
  if (!UNSAFE_ESCAPE.test(json)) return json;
  return JSON.stringify(repair(JSON.parse(json)));
}

/** `value` as JSON text that jsonb accepts: JSON.stringify, then pgJsonText. */
export function pgJson(value: unknown): string {
  return pgJsonText(JSON.stringify(value));
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function wellFormed(value: string): string {
  return pgText(value.replace(LONE_SURROGATE, '\uFFFD'));
}

function repair(value: unknown): unknown {
  if (typeof value === 'string') return wellFormed(value);
  if (Array.isArray(value)) return value.map(repair);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [wellFormed(k), repair(v)]));
  }
  return value;
}
