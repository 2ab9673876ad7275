/**
 * The times a message may carry. PostgreSQL's timestamptz reaches far wider, but reads
 * only four-digit years in the ISO form JavaScript writes, and refuses year 0; a network
 * server's or concentrator's clock before 1970 is wrong anyway. A time outside this range
 * is bad input, refused where the message is parsed: otherwise the database would refuse
 * the whole batch holding it.
 */
const EARLIEST_MS = Date.UTC(1970, 0, 1);
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Why `t` is no time stadtfunk stores, or null when it is one. */
export function timeProblem(t: Date): string | null {
  const ms = t.getTime();
  if (Number.isNaN(ms)) return 'is not a time';
  if (ms < EARLIEST_MS || ms > LATEST_MS) return 'lies outside 1970-01-01 … 9999-12-31';
  return null;
}

/** The part of google-protobuf's google.protobuf.Timestamp used here (the package ships no typings for it). */
export interface ProtobufTimestamp {
  toDate(): Date;
  getSeconds(): number;
}

/**
 * A protobuf time as the JSON paths take it: ISO 8601, or, for a time JavaScript cannot
 * write, its seconds as text, which those paths refuse with the reason.
 */
export function protobufTimeText(ts: ProtobufTimestamp | undefined): string | undefined {
  if (!ts) return undefined;
  const t = ts.toDate();
  return Number.isNaN(t.getTime()) ? `${ts.getSeconds()} s` : t.toISOString();
}
