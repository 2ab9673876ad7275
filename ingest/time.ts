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

/**
 * RFC 3339 §5.6 date-time: full-date "T" full-time, the offset required (`Z` or ±hh:mm).
 * The RFC lets `T` and `Z` be lower case (§5.6 note); so does this. Fractions may have any
 * number of digits; a Date keeps milliseconds, so further digits are cut off (not rounded:
 * a time never moves into the next second).
 *
 * Stricter than `new Date(text)` on purpose (issue 26): JavaScript's parser moves
 * 2026-02-30 to 2 March and 24:00 to the next day, takes "1" as 2001-01-01 and a time
 * without an offset in the service's own time zone. Each of these would store a reading
 * at a time its device never sent.
 *
 * Second 60 (a leap second, which RFC 3339 allows) is refused: ChirpStack and The Things
 * Stack write times with Go's time package, which never writes one, and a Date cannot
 * hold one; accepting it would mean storing some other second.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** The time `text` stands for, or what is wrong with it (a phrase to follow the quoted text). */
export function parseRfc3339(text: string): { time: Date } | { problem: string } {
  const m = RFC3339.exec(text);
  if (!m) return { problem: 'is not an RFC 3339 time with an offset (YYYY-MM-DDThh:mm:ss[.fraction] and Z or ±hh:mm)' };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) return { problem: `has no month ${m[2]}` };
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) return { problem: `has no day ${m[3]}: ${m[1]}-${m[2]} has ${days} days` };
  if (hour > 23) return { problem: `has hour ${m[4]}; hours run 00–23` };
  if (minute > 59) return { problem: `has minute ${m[5]}; minutes run 00–59` };
  if (second > 59) return { problem: `has second ${m[6]}; seconds run 00–59 (leap seconds are not taken)` };
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10]);
    const offsetMins = Number(m[11]);
    if (offsetHours > 23 || offsetMins > 59) return { problem: `has no offset ${m[9]}${m[10]}:${m[11]}` };
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  // Years before 1970 are refused below; Date.UTC would read 0–99 as 1900–1999.
  if (year < 1900) return { problem: 'lies outside 1970-01-01 … 9999-12-31' };
  const ms = Number((m[7] ?? '').slice(0, 3).padEnd(3, '0'));
  const time = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000);
  const problem = timeProblem(time);
  return problem ? { problem } : { time };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
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
